#!/usr/bin/env node
// Package bin: the talas command (its source: tal/cli/talas.ts), started by bin/launch.js.
import { launch } from './launch.js';
await launch('tal/cli/talas');
