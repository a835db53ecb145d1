#!/usr/bin/env node
// Package bin: the taldump command (its source: tal/cli/taldump.ts), started by bin/launch.js.
import { launch } from './launch.js';
await launch('tal/cli/taldump');
