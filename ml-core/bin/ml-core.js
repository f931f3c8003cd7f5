#!/usr/bin/env node
"use strict";
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the root `prepare`).
require("../dist/runtime/cli.js").main(process.argv.slice(2));
