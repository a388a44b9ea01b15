// The list tools' `pattern` rule and their empty-result suggestions, written
// here from the tools' descriptions, independently of the server:
// - a pattern is a case-sensitive substring unless it holds '*', '?' or '[';
//   then it is a glob of the whole name ('*', '?', [abc], [a-z], [!x], [^x];
//   a ']' first in a class is a member; an unterminated '[' is a literal);
// - an empty result's suggestions are the names fewest edits (Levenshtein,
//   ASCII case ignored) from matching, with a cutoff by pattern length.
import assert from 'node:assert/strict';

export const isGlob = (p) => /[*?[]/.test(p);

// The pattern as elements: { star } | { any } | { set: (c) => bool } | { lit }.
function elements(glob) {
  const out = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (!out.at(-1)?.star) out.push({ star: true });
    } else if (c === '?') {
      out.push({ any: true });
    } else if (c === '[') {
      let j = i + 1;
      const neg = glob[j] === '!' || glob[j] === '^';
      if (neg) j++;
      const first = j;
      while (j < glob.length && (glob[j] !== ']' || j === first)) j++;
      if (j >= glob.length) { out.push({ lit: '[' }); continue; }
      const ranges = [];
      for (let k = first; k < j; k++) {
        if (glob[k + 1] === '-' && k + 2 < j) { ranges.push([glob[k], glob[k + 2]]); k += 2; } else ranges.push([glob[k], glob[k]]);
      }
      out.push({ neg, ranges });
      i = j;
    } else {
      out.push({ lit: c });
    }
  }
  return out;
}

const inRanges = (e, c) => e.ranges.some(([lo, hi]) => c >= lo && c <= hi);

function takes(e, c, fold) {
  if (e.any) return true;
  if (e.lit !== undefined) return fold ? e.lit.toLowerCase() === c.toLowerCase() : e.lit === c;
  if (!fold) return inRanges(e, c) !== e.neg;
  const lo = inRanges(e, c.toLowerCase()), up = inRanges(e, c.toUpperCase());
  return e.neg ? !lo && !up : lo || up;
}

export function globRe(glob) {
  const body = elements(glob).map((e) => {
    if (e.star) return '.*';
    if (e.any) return '.';
    if (e.lit !== undefined) return e.lit.replace(/[.+^${}()|[\]\\*?/]/g, '\\$&');
    const esc = (c) => c.replace(/[\]\\^[-]/g, '\\$&');
    return `[${e.neg ? '^' : ''}${e.ranges.map(([a, b]) => (a === b ? esc(a) : `${esc(a)}-${esc(b)}`)).join('')}]`;
  }).join('');
  return new RegExp(`^${body}$`, 's');
}

// (name) => bool, per the rule above; exact for get_btf_types' `name`.
export function matcher(pattern, { exact = false } = {}) {
  if (!pattern) return () => true;
  if (exact) return (n) => n === pattern;
  if (!isGlob(pattern)) return (n) => n.includes(pattern);
  const re = globRe(pattern);
  return (n) => re.test(n);
}

// Fewest edits (case folded) that make `name` match: a plain dynamic
// programme over (pattern element, name byte); a substring is "*p*".
export function editsTo(pattern, name, { exact = false } = {}) {
  const el = exact || !isGlob(pattern)
    ? [...(exact ? [] : [{ star: true }]), ...[...pattern].map((c) => ({ lit: c })), ...(exact ? [] : [{ star: true }])]
    : elements(pattern);
  let prev = Array.from({ length: name.length + 1 }, (_, j) => j);
  for (const e of el) {
    const row = [e.star ? prev[0] : prev[0] + 1];
    for (let j = 1; j <= name.length; j++) {
      row[j] = e.star ? Math.min(prev[j], row[j - 1])
        : Math.min(prev[j - 1] + (takes(e, name[j - 1], true) ? 0 : 1), prev[j] + 1, row[j - 1] + 1);
    }
    prev = row;
  }
  return prev[name.length];
}

// The cutoff: 1 edit up to 3 non-'*' elements, 2 up to 7, else 3.
export function editsMax(pattern, { exact = false } = {}) {
  const n = exact || !isGlob(pattern) ? pattern.length : elements(pattern).filter((e) => !e.star).length;
  return Math.min(3, 1 + Math.floor(n / 4));
}

// An empty result: total 0, `searched` as given, and `suggestions` that are
// the nearest candidates by the witness's own distance. candidates: [{ key,
// shown }] — key is what the pattern was matched against, shown what a
// suggestion shows.
export function checkEmpty(r, { what, match, pattern, candidates, exact = false }) {
  assert.equal(r.total, 0);
  assert.deepEqual(r.searched, { what, match, ...(pattern ? { pattern } : {}), candidates: candidates.length });
  assert.ok(Array.isArray(r.suggestions) && r.suggestions.length <= 5, JSON.stringify(r.suggestions));
  if (!pattern) return assert.deepEqual(r.suggestions, []);
  const max = editsMax(pattern, { exact });
  const dist = new Map();   // shown -> edits, the nearest key for a shown name
  for (const c of candidates) {
    if (c.shown.length >= 512) continue;
    const d = editsTo(pattern, c.key, { exact });
    if (d <= max && !(dist.get(c.shown) <= d)) dist.set(c.shown, d);
  }
  const got = r.suggestions.map((s) => dist.get(s));
  assert.ok(got.every((d) => d !== undefined), `every suggestion exists within ${max} edits: ${JSON.stringify(r.suggestions)}`);
  for (let i = 1; i < got.length; i++) assert.ok(got[i - 1] <= got[i], `closest first: ${JSON.stringify(r.suggestions)} ${got}`);
  const worst = got.length ? got.at(-1) : -1;
  const nearer = [...dist].filter(([, d]) => (r.suggestions.length < 5 ? true : d < worst)).map(([s]) => s);
  for (const s of nearer) assert.ok(r.suggestions.includes(s), `${s} (${dist.get(s)} edits) is suggested: ${r.suggestions}`);
  if (r.suggestions.length < 5) assert.equal(r.suggestions.length, dist.size, 'every name within the cutoff');
}
