// The fuzzing server's reports, in the shape of Autobahn's: `index.json` maps each agent to its
// cases ({ behavior, behaviorClose, duration, remoteCloseCode, reportfile }), and each case has a
// JSON file of its own with the full record.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CaseResult } from "./case_connection.ts";

/** One case in index.json. */
export interface IndexEntry {
  readonly behavior: string;
  readonly behaviorClose: string;
  readonly duration: number;
  readonly remoteCloseCode: number | null;
  readonly reportfile: string;
}

/** index.json: agent → case id → entry. */
export type ReportIndex = Record<string, Record<string, IndexEntry>>;

/** Autobahn's file name for a case report: the agent cleaned, then the case id. */
export function reportFileName(agent: string, id: string): string {
  const clean = agent.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim().replace(/ +/g, "_");
  return `${clean}_case_${id.replace(/\./g, "_")}.json`;
}

/** Compares case ids numerically ("9.10" after "9.9"). */
export function compareIds(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Writes index.json and one file per case under `dir`; returns the index. */
export async function writeReports(
  dir: string,
  results: ReadonlyMap<string, ReadonlyMap<string, CaseResult>>,
): Promise<ReportIndex> {
  await mkdir(dir, { recursive: true });
  const index: ReportIndex = {};
  for (const [agent, byCase] of results) {
    const entries: Record<string, IndexEntry> = {};
    for (const id of [...byCase.keys()].sort(compareIds)) {
      const r = byCase.get(id)!;
      const reportfile = reportFileName(agent, id);
      entries[id] = {
        behavior: r.behavior,
        behaviorClose: r.behaviorClose,
        duration: r.duration,
        remoteCloseCode: r.remoteCloseCode,
        reportfile,
      };
      await writeFile(join(dir, reportfile), JSON.stringify(r, null, 2) + "\n");
    }
    index[agent] = entries;
  }
  await writeFile(join(dir, "index.json"), JSON.stringify(index, null, 2) + "\n");
  return index;
}
