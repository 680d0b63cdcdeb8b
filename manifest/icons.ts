/**
 * Draws the Teams app icons with nothing but Node and pngjs, so they can be regenerated anywhere:
 *
 *   npx tsx manifest/icons.ts        # writes manifest/color.png (192×192) and manifest/outline.png (32×32)
 *
 * The glyph is a track crossover: a route leaves the old track (top), crosses over and carries on along the new
 * one (bottom) with an arrow — the cutover. The color icon is the glyph in white on the accent color, inside the
 * 96×96 safe area Teams asks for; the outline icon is the same glyph in pure white on a transparent background.
 * Edges are anti-aliased by 4×4 supersampling of a distance field.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

export const ACCENT = '#1F5AA6';

type Pt = [number, number];
type Shape = { kind: 'segment'; a: Pt; b: Pt; width: number } | { kind: 'triangle'; p: [Pt, Pt, Pt] };

/** The glyph in a 32×32 design space. */
const GLYPH: Shape[] = [
  // the route: along the old track, over the crossover, along the new track
  { kind: 'segment', a: [4, 10], b: [12, 10], width: 3 },
  { kind: 'segment', a: [12, 10], b: [19, 22], width: 3 },
  { kind: 'segment', a: [19, 22], b: [23, 22], width: 3 },
  { kind: 'triangle', p: [[29, 22], [22.5, 16.5], [22.5, 27.5]] },
  // the rest of each track, thinner
  { kind: 'segment', a: [18, 10], b: [28, 10], width: 1.5 },
  { kind: 'segment', a: [4, 22], b: [13, 22], width: 1.5 },
];

function segmentDistance(p: Pt, a: Pt, b: Pt): number {
  const [px, py] = p;
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}

function inTriangle(p: Pt, [a, b, c]: [Pt, Pt, Pt]): boolean {
  const s = (p1: Pt, p2: Pt, p3: Pt) => (p1[0] - p3[0]) * (p2[1] - p3[1]) - (p2[0] - p3[0]) * (p1[1] - p3[1]);
  const d1 = s(p, a, b);
  const d2 = s(p, b, c);
  const d3 = s(p, c, a);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

function inGlyph(p: Pt): boolean {
  return GLYPH.some((s) => (s.kind === 'segment' ? segmentDistance(p, s.a, s.b) <= s.width / 2 : inTriangle(p, s.p)));
}

/** Coverage (0..1) of the glyph over each pixel of a size×size image, the glyph scaled and offset from design space. */
function coverage(size: number, scale: number, offset: number): Float64Array {
  const out = new Float64Array(size * size);
  const n = 4;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < n; sy++)
        for (let sx = 0; sx < n; sx++) {
          const p: Pt = [(x + (sx + 0.5) / n - offset) / scale, (y + (sy + 0.5) / n - offset) / scale];
          if (inGlyph(p)) hits++;
        }
      out[y * size + x] = hits / (n * n);
    }
  return out;
}

function hex(color: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) throw new Error(`not a #rrggbb color: ${color}`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

/** 192×192, opaque: the white glyph (scaled ×4 into the central 96×96) on the accent color. */
export function renderColorIcon(accent = ACCENT): Buffer {
  const size = 192;
  const png = new PNG({ width: size, height: size });
  const [r, g, b] = hex(accent);
  const cov = coverage(size, 4, 32);
  for (let i = 0; i < size * size; i++) {
    const c = cov[i];
    png.data[i * 4] = Math.round(r + (255 - r) * c);
    png.data[i * 4 + 1] = Math.round(g + (255 - g) * c);
    png.data[i * 4 + 2] = Math.round(b + (255 - b) * c);
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** 32×32: pure white, coverage in the alpha channel, transparent background. */
export function renderOutlineIcon(): Buffer {
  const size = 32;
  const png = new PNG({ width: size, height: size });
  const cov = coverage(size, 1, 0);
  for (let i = 0; i < size * size; i++) {
    png.data[i * 4] = 255;
    png.data[i * 4 + 1] = 255;
    png.data[i * 4 + 2] = 255;
    png.data[i * 4 + 3] = Math.round(255 * cov[i]);
  }
  return PNG.sync.write(png);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  writeFileSync(path.join(dir, 'color.png'), renderColorIcon());
  writeFileSync(path.join(dir, 'outline.png'), renderOutlineIcon());
  console.log(`wrote ${path.join(dir, 'color.png')} (192×192) and ${path.join(dir, 'outline.png')} (32×32)`);
}
