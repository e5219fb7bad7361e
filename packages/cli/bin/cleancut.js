#!/usr/bin/env node
// Committed entry point (kept executable in git) so the bin link works before the build has run.
import "../dist/main.js";
