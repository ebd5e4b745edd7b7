#!/usr/bin/env node
// Compiles the Solidity sources with solc-js (npm `solc`, pinned) through standard JSON.
//
//   node contracts/build.mjs            contracts/**/*.sol + build/verifiers/*.sol -> build/contracts/
//   node contracts/build.mjs --test     tests/contracts/fixtures/*.sol (test-only tokens and
//                                       attackers; they may import contracts/) -> build/test-contracts/
//
// Writes <Name>.json ({contractName, sourceName, abi, bytecode, deployedBytecode}) for every
// contract defined in the entry files, plus solc-input.json and solc-output.json (standard JSON,
// read by contracts/slither.py). Imports are resolved here (relative paths, and packages from
// node_modules), so solc-input.json holds every source and is self-contained. The compile is
// skipped when the input (sources, settings, compiler version) hashes to the previous one.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const solc = require("solc");

const PROFILES = {
  contracts: { entries: ["contracts", "build/verifiers"], out: "build/contracts" },
  test: { entries: ["tests/contracts/fixtures"], out: "build/test-contracts" },
};

export const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  viaIR: false,
  outputSelection: {
    "*": {
      "*": [
        "abi",
        "evm.bytecode.object",
        "evm.bytecode.sourceMap",
        "evm.deployedBytecode.object",
        "evm.deployedBytecode.sourceMap",
        "evm.methodIdentifiers",
      ],
      "": ["ast"],
    },
  },
};

/** Repo-relative source unit names of the .sol files under `dir` (recursively). */
function solFiles(dir) {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true })
    .filter((f) => f.endsWith(".sol"))
    .map((f) => path.posix.join(dir, f.split(path.sep).join("/")))
    .sort();
}

/** The file on disk for a source unit name: packages live in node_modules. */
function fileOf(unit) {
  const local = path.join(ROOT, unit);
  if (!unit.startsWith("@") && existsSync(local)) return local;
  return path.join(ROOT, "node_modules", unit);
}

const IMPORT_RE = /^\s*import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/gm;

/** Entry units plus everything they import, as standard-JSON `sources` with content. */
function collectSources(entries) {
  const sources = {};
  const queue = [...entries];
  while (queue.length) {
    const unit = queue.pop();
    if (sources[unit]) continue;
    const content = readFileSync(fileOf(unit), "utf8");
    sources[unit] = { content };
    for (const match of content.matchAll(IMPORT_RE)) {
      const target = match[1];
      queue.push(target.startsWith(".") ? path.posix.normalize(path.posix.join(path.posix.dirname(unit), target)) : target);
    }
  }
  return Object.fromEntries(Object.keys(sources).sort().map((k) => [k, sources[k]]));
}

/** Compiles a profile; returns {outDir, compiled: bool}. Throws on compile errors. */
export function build(profileName = "contracts") {
  const profile = PROFILES[profileName];
  if (!profile) throw new Error(`unknown profile ${profileName}`);
  const entries = profile.entries.flatMap(solFiles);
  if (!entries.length) throw new Error(`no Solidity sources under ${profile.entries.join(", ")}`);
  const input = { language: "Solidity", sources: collectSources(entries), settings: SETTINGS };
  const outDir = path.join(ROOT, profile.out);
  const inputText = JSON.stringify(input);
  const hash = createHash("sha256").update(solc.version()).update(inputText).digest("hex");
  const hashFile = path.join(outDir, ".input.sha256");
  if (existsSync(hashFile) && readFileSync(hashFile, "utf8") === hash) {
    return { outDir, compiled: false };
  }

  const output = JSON.parse(solc.compile(inputText));
  const diagnostics = output.errors || [];
  const errors = diagnostics.filter((e) => e.severity === "error");
  for (const d of diagnostics) {
    if (d.severity === "error" || !d.sourceLocation?.file?.startsWith("@")) {
      process.stderr.write((d.formattedMessage || d.message) + "\n");
    }
  }
  if (errors.length) throw new Error(`solc: ${errors.length} error(s)`);

  mkdirSync(outDir, { recursive: true });
  for (const unit of entries) {
    for (const [name, c] of Object.entries(output.contracts[unit] || {})) {
      const artifact = {
        contractName: name,
        sourceName: unit,
        abi: c.abi,
        bytecode: "0x" + c.evm.bytecode.object,
        deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      };
      writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artifact, null, 1));
    }
  }
  writeFileSync(path.join(outDir, "solc-input.json"), inputText);
  writeFileSync(path.join(outDir, "solc-output.json"), JSON.stringify(output));
  writeFileSync(path.join(outDir, "solc-version.txt"), solc.version());
  writeFileSync(hashFile, hash);
  return { outDir, compiled: true };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const profile = process.argv.includes("--test") ? "test" : "contracts";
  try {
    const { outDir, compiled } = build(profile);
    console.log(`${compiled ? "compiled" : "up to date"}: ${path.relative(ROOT, outDir)} (solc ${solc.version()})`);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
