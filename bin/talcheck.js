#!/usr/bin/env node
// Package bin: the talcheck command (its source: tal/cli/talcheck.ts), started by bin/launch.js.
import { launch } from './launch.js';
await launch('tal/cli/talcheck');
