/* Line charts (see plot.h). Everything is drawn on an RGB canvas: the grid, frame and ticks as
 * rectangles, the text with the bitmap font scaled up, and the curves anti-aliased: each
 * polyline's coverage (from the distance of a pixel to its segments) is accumulated in a mask
 * and blended once, so joints do not darken. */
#include "plot.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "font.h"
#include "png.h"

enum { BACKGROUND = 0xffffff, GRID = 0xe6e6e6, FRAME = 0x505050, TEXT = 0x202020 };

typedef struct canvas {
  uint8_t *px;
  int w, h;
  float *cover; /* coverage of the polyline being drawn, 0 outside `box` */
  int box[4];   /* x0, y0, x1, y1 (exclusive) of the pixels `cover` touches */
} canvas;

static void blend(canvas *c, int x, int y, uint32_t color, double a) {
  if (x < 0 || y < 0 || x >= c->w || y >= c->h || a <= 0) return;
  if (a > 1) a = 1;
  uint8_t *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
  for (int k = 0; k < 3; k++) {
    double v = (double)((color >> (16 - 8 * k)) & 0xff);
    p[k] = (uint8_t)lround(p[k] + a * (v - p[k]));
  }
}

static void fill_rect(canvas *c, int x0, int y0, int x1, int y1, uint32_t color) {
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) blend(c, x, y, color, 1);
}

/* ---- text: `y` is the top of the glyphs, capitals and digits are FONT_ASCENT * scale high */

static int text_width(const char *s, int scale) {
  int n = (int)strlen(s);
  return n ? (n * FONT_ADVANCE - (FONT_ADVANCE - FONT_W)) * scale : 0;
}

static void draw_text(canvas *c, int x, int y, const char *s, int scale, uint32_t color) {
  for (; *s; s++, x += FONT_ADVANCE * scale) {
    uint8_t rows[FONT_H];
    font_glyph(*s, rows);
    for (int r = 0; r < FONT_H; r++)
      for (int col = 0; col < FONT_W; col++)
        if ((rows[r] >> (FONT_W - 1 - col)) & 1)
          fill_rect(c, x + col * scale, y + r * scale, x + (col + 1) * scale, y + (r + 1) * scale,
                    color);
  }
}

/* ---- anti-aliased strokes -------------------------------------------------------------------- */

/* Adds a segment with round caps, of radius r, to the coverage mask. */
static void cover_segment(canvas *c, double x0, double y0, double x1, double y1, double r) {
  int bx0 = (int)floor(fmin(x0, x1) - r - 1), by0 = (int)floor(fmin(y0, y1) - r - 1);
  int bx1 = (int)ceil(fmax(x0, x1) + r + 2), by1 = (int)ceil(fmax(y0, y1) + r + 2);
  bx0 = bx0 < 0 ? 0 : bx0, by0 = by0 < 0 ? 0 : by0;
  bx1 = bx1 > c->w ? c->w : bx1, by1 = by1 > c->h ? c->h : by1;
  double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  for (int y = by0; y < by1; y++)
    for (int x = bx0; x < bx1; x++) {
      double px = x + 0.5, py = y + 0.5;
      double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      double a = r + 0.5 - hypot(x0 + t * dx - px, y0 + t * dy - py);
      float *cv = &c->cover[(size_t)y * (size_t)c->w + (size_t)x];
      if (a > *cv) *cv = (float)(a > 1 ? 1 : a);
    }
  if (bx0 < bx1 && by0 < by1) {
    int *b = c->box;
    b[0] = bx0 < b[0] ? bx0 : b[0], b[1] = by0 < b[1] ? by0 : b[1];
    b[2] = bx1 > b[2] ? bx1 : b[2], b[3] = by1 > b[3] ? by1 : b[3];
  }
}

/* Paints the accumulated coverage in `color` and clears the mask. */
static void flush_cover(canvas *c, uint32_t color) {
  for (int y = c->box[1]; y < c->box[3]; y++)
    for (int x = c->box[0]; x < c->box[2]; x++) {
      float *cv = &c->cover[(size_t)y * (size_t)c->w + (size_t)x];
      blend(c, x, y, color, *cv);
      *cv = 0;
    }
  c->box[0] = c->w, c->box[1] = c->h, c->box[2] = c->box[3] = 0;
}

/* ---- axes ------------------------------------------------------------------------------------ */

typedef struct axis {
  double lo, hi, step;
  int decimals; /* for the tick labels */
} axis;

/* A step of 1, 2 or 5 times a power of ten giving about `target` intervals over `span`. */
static double nice_step(double span, int target) {
  double raw = span / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* Fits an axis to [lo, hi]. With `snap` the ends move out to multiples of the step; `integer`
 * keeps the step a whole number. */
static void axis_fit(axis *a, double lo, double hi, int target, bool snap, bool integer) {
  if (!(hi > lo)) {
    double pad = integer ? 1 : lo != 0 ? 0.05 * fabs(lo) : 1;
    lo -= pad, hi += pad;
  }
  a->step = nice_step(hi - lo, target);
  if (integer && a->step < 1) a->step = 1;
  a->lo = snap ? floor(lo / a->step + 1e-9) * a->step : lo;
  a->hi = snap ? ceil(hi / a->step - 1e-9) * a->step : hi;
  a->decimals = a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
}

/* The ticks of an axis: call with k = the first and advance while it returns true. */
static bool axis_tick(const axis *a, int i, double *v) {
  double k0 = ceil(a->lo / a->step - 1e-9);
  *v = (k0 + i) * a->step;
  if (fabs(*v) < 1e-9 * a->step) *v = 0; /* no "-0.0" */
  return *v <= a->hi + 1e-9 * a->step;
}

typedef struct frame {
  int left, top, right, bottom; /* the plot area, in pixels */
  axis x, y;
} frame;

static double map_x(const frame *f, double v) {
  return f->left + (v - f->x.lo) / (f->x.hi - f->x.lo) * (f->right - f->left);
}
static double map_y(const frame *f, double v) {
  return f->bottom - (v - f->y.lo) / (f->y.hi - f->y.lo) * (f->bottom - f->top);
}

static void draw_axes(canvas *c, const frame *f, const plot_panel *p, int scale) {
  char label[32];
  int th = FONT_ASCENT * scale, tick = 3 * scale;
  double v;
  for (int i = 0; axis_tick(&f->y, i, &v); i++) {
    int y = (int)lround(map_y(f, v));
    fill_rect(c, f->left, y, f->right, y + 1, GRID);
    fill_rect(c, f->left - tick, y, f->left, y + 1, FRAME);
    snprintf(label, sizeof label, "%.*f", f->y.decimals, v);
    draw_text(c, f->left - tick - 3 * scale - text_width(label, scale), y - th / 2, label, scale,
              TEXT);
  }
  for (int i = 0; axis_tick(&f->x, i, &v); i++) {
    int x = (int)lround(map_x(f, v));
    fill_rect(c, x, f->top, x + 1, f->bottom, GRID);
    fill_rect(c, x, f->bottom, x + 1, f->bottom + tick, FRAME);
    snprintf(label, sizeof label, "%.*f", f->x.decimals, v);
    draw_text(c, x - text_width(label, scale) / 2, f->bottom + tick + 3 * scale, label, scale,
              TEXT);
  }
  fill_rect(c, f->left, f->top, f->right + 1, f->top + 1, FRAME);
  fill_rect(c, f->left, f->bottom, f->right + 1, f->bottom + 1, FRAME);
  fill_rect(c, f->left, f->top, f->left + 1, f->bottom + 1, FRAME);
  fill_rect(c, f->right, f->top, f->right + 1, f->bottom + 1, FRAME);
  int mid = (f->left + f->right) / 2;
  if (p->title)
    draw_text(c, mid - text_width(p->title, scale) / 2, f->top - th - 6 * scale, p->title, scale,
              TEXT);
  if (p->xlabel)
    draw_text(c, mid - text_width(p->xlabel, scale) / 2, f->bottom + tick + th + 8 * scale,
              p->xlabel, scale, TEXT);
}

/* ---- curves and legend ----------------------------------------------------------------------- */

static void draw_series(canvas *c, const frame *f, const plot_panel *p, const plot_series *s,
                        int scale) {
  double r = 0.75 * scale, dot = 2 * scale;
  bool dots = p->n < 2 || (f->right - f->left) / (p->n - 1) >= 4 * dot;
  for (int i = 0; i + 1 < p->n; i++)
    if (isfinite(s->y[i]) && isfinite(s->y[i + 1]))
      cover_segment(c, map_x(f, i + 1), map_y(f, s->y[i]), map_x(f, i + 2), map_y(f, s->y[i + 1]),
                    r);
  for (int i = 0; dots && i < p->n; i++)
    if (isfinite(s->y[i])) {
      double x = map_x(f, i + 1), y = map_y(f, s->y[i]);
      cover_segment(c, x, y, x, y, dot);
    }
  flush_cover(c, s->color);
}

/* How many points sampled along the curves fall inside the rectangle. */
static int curve_hits(const frame *f, const plot_panel *p, const int box[4]) {
  int hits = 0;
  for (int s = 0; s < p->nseries; s++)
    for (int i = 0; i < p->n; i++)
      for (int k = 0; k < 16 && (k == 0 || i + 1 < p->n); k++) {
        double y0 = p->series[s].y[i], y1 = i + 1 < p->n ? p->series[s].y[i + 1] : y0, t = k / 16.0;
        double x = map_x(f, i + 1 + t), y = map_y(f, y0 + t * (y1 - y0));
        hits += isfinite(y) && x >= box[0] && x < box[2] && y >= box[1] && y < box[3];
      }
  return hits;
}

/* The legend goes in the corner of the plot area that hides the fewest curve points. */
static void draw_legend(canvas *c, const frame *f, const plot_panel *p, int scale) {
  int th = FONT_ASCENT * scale, pad = 4 * scale, sample = 12 * scale, line_h = th + 4 * scale;
  int w = 0, margin = 5 * scale;
  for (int s = 0; s < p->nseries; s++) {
    int tw = p->series[s].label ? text_width(p->series[s].label, scale) : 0;
    w = tw > w ? tw : w;
  }
  w += 2 * pad + sample + 3 * scale;
  int h = 2 * pad + p->nseries * line_h - 4 * scale;
  int best[4] = {0}, best_hits = -1;
  for (int corner = 0; corner < 4; corner++) { /* top right, bottom right, top left, bottom left */
    int x0 = corner < 2 ? f->right - margin - w : f->left + margin;
    int y0 = corner % 2 == 0 ? f->top + margin : f->bottom - margin - h;
    int box[4] = {x0 - 2 * scale, y0 - 2 * scale, x0 + w + 2 * scale, y0 + h + 2 * scale};
    int hits = curve_hits(f, p, box);
    if (best_hits < 0 || hits < best_hits) {
      best_hits = hits;
      memcpy(best, (int[4]){x0, y0, x0 + w, y0 + h}, sizeof best);
    }
  }
  fill_rect(c, best[0], best[1], best[2], best[3], BACKGROUND);
  fill_rect(c, best[0], best[1], best[2], best[1] + 1, GRID);
  fill_rect(c, best[0], best[3] - 1, best[2], best[3], GRID);
  fill_rect(c, best[0], best[1], best[0] + 1, best[3], GRID);
  fill_rect(c, best[2] - 1, best[1], best[2], best[3], GRID);
  for (int s = 0; s < p->nseries; s++) {
    int x = best[0] + pad, y = best[1] + pad + s * line_h;
    double cy = y + th / 2.0;
    cover_segment(c, x, cy, x + sample, cy, 0.75 * scale);
    cover_segment(c, x + sample / 2.0, cy, x + sample / 2.0, cy, 2.0 * scale);
    flush_cover(c, p->series[s].color);
    if (p->series[s].label)
      draw_text(c, x + sample + 3 * scale, y, p->series[s].label, scale, TEXT);
  }
}

/* ---- panels ---------------------------------------------------------------------------------- */

static int draw_panel(canvas *c, int x0, int width, const plot_panel *p, int scale) {
  double lo = INFINITY, hi = -INFINITY;
  for (int s = 0; s < p->nseries; s++)
    for (int i = 0; i < p->n; i++) {
      double v = p->series[s].y[i];
      if (isfinite(v)) lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    }
  if (!(lo <= hi)) lo = 0, hi = 1; /* nothing to draw: an empty frame */
  frame f;
  axis_fit(&f.y, lo, hi, 5, true, false);
  int th = FONT_ASCENT * scale, label_w = 0;
  double v;
  for (int i = 0; axis_tick(&f.y, i, &v); i++) {
    char label[32];
    snprintf(label, sizeof label, "%.*f", f.y.decimals, v);
    int w = text_width(label, scale);
    label_w = w > label_w ? w : label_w;
  }
  f.left = x0 + 14 * scale + label_w;
  f.right = x0 + width - 8 * scale;
  f.top = 2 * th + 4 * scale;
  f.bottom = c->h - 2 * th - 16 * scale;
  if (f.right - f.left < 40 || f.bottom - f.top < 40) return -1;
  axis_fit(&f.x, 1, p->n > 1 ? p->n : 1, (f.right - f.left) / (30 * scale) + 1, false, true);
  draw_axes(c, &f, p, scale);
  for (int s = 0; s < p->nseries; s++) draw_series(c, &f, p, &p->series[s], scale);
  if (p->nseries > 0) draw_legend(c, &f, p, scale);
  return 0;
}

int plot_render(uint8_t *rgb, int width, int height, const plot_panel *panels, int npanels) {
  if (width <= 0 || height <= 0 || npanels <= 0) return -1;
  canvas c = {rgb, width, height, calloc((size_t)width * (size_t)height, sizeof(float)),
              {width, height, 0, 0}};
  if (!c.cover) return -1;
  fill_rect(&c, 0, 0, width, height, BACKGROUND);
  int scale = height >= 300 ? 2 : 1, rc = 0;
  for (int i = 0; i < npanels && rc == 0; i++)
    rc = draw_panel(&c, i * width / npanels, width / npanels, &panels[i], scale);
  free(c.cover);
  return rc;
}

int plot_write_png(const char *path, int width, int height, const plot_panel *panels,
                   int npanels) {
  if (width <= 0 || height <= 0) return -1;
  uint8_t *rgb = malloc(3 * (size_t)width * (size_t)height);
  int rc = rgb ? plot_render(rgb, width, height, panels, npanels) : -1;
  if (rc == 0) rc = png_write_rgb(path, rgb, width, height);
  free(rgb);
  return rc;
}
