/** The one-call commands: status, search, switchover, failovers. */
import { intOption, parseFilters } from '../args.ts';
import type { Command } from '../context.ts';
import { renderFailoverList, renderReport, renderStatus, table } from '../format.ts';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export const statusCommand: Command = async ({ client, values, out }) => {
  const status = await client.status();
  out(values.json ? json(status) : renderStatus(status, client.url));
  return 0;
};

export const searchCommand: Command = async ({ client, positionals, values, out }) => {
  const query = positionals[0]!;
  const filter = parseFilters(values.filter as string[] | undefined);
  const answer = await client.search({
    query,
    top_k: intOption(values, 'top-k', 1, 100, 5),
    ...(filter ? { filter } : {}),
  });
  if (values.json) {
    out(json(answer));
    return 0;
  }
  const snippet = (text: string) => {
    const flat = text.replace(/\s+/g, ' ').trim();
    return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
  };
  const rows = [
    ['#', 'SCORE', 'ID', 'TEXT'],
    ...answer.results.map((r, i) => [String(i + 1), r.score.toFixed(4), r.id, snippet(r.passage.text)]),
  ];
  const body =
    answer.results.length === 0
      ? 'no results (is anything ingested? `gte-pro ingest FILE.jsonl`)'
      : table(rows);
  out(
    `${body}\n\n${answer.results.length} result(s) in ${Math.round(answer.took_ms * 10) / 10} ms, served by ${answer.served_by.node} (${answer.served_by.role}, epoch ${answer.served_by.epoch})\n`,
  );
  return 0;
};

export const switchoverCommand: Command = async ({ client, values, out, err }) => {
  const to = values.to as string | undefined;
  err(
    `switchover${to ? ` to ${to}` : ''}: asking the edge (it activates the standby, verifies it with a canary search, then demotes the old master)…\n`,
  );
  const report = await client.switchover(to);
  out(values.json ? json(report) : renderReport(report));
  return report.outcome === 'succeeded' ? 0 : 1;
};

export const failoversCommand: Command = async ({ client, positionals, values, out }) => {
  const id = positionals[0];
  if (id !== undefined) {
    const report = await client.failover(id);
    out(values.json ? json(report) : renderReport(report));
    return 0;
  }
  const list = await client.failovers(intOption(values, 'limit', 1, 500, 20));
  out(values.json ? json(list) : renderFailoverList(list));
  return 0;
};
