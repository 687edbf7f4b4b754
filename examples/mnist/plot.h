/* Line charts as PNG images: panels side by side, each with axes, ticks, a grid, a title and a
 * legend, the text drawn with the built-in bitmap font (font.h). */
#ifndef MNIST_PLOT_H
#define MNIST_PLOT_H

#include <stdint.h>

typedef struct plot_series {
  const char *label;
  const double *y; /* the panel's n values, at x = 1, 2, ..., n; non-finite ones are skipped */
  uint32_t color;  /* 0xRRGGBB */
} plot_series;

typedef struct plot_panel {
  const char *title, *xlabel;
  int n; /* points per series */
  const plot_series *series;
  int nseries;
} plot_panel;

/* Draws the panels side by side into `rgb`, a width x height image with 3 bytes a pixel (rows
 * top to bottom). Returns 0, or -1 when out of memory or the image is too small for the text. */
int plot_render(uint8_t *rgb, int width, int height, const plot_panel *panels, int npanels);

/* Renders the panels into a width x height image and writes it to `path` as PNG. Returns 0, or
 * -1 when it cannot be drawn or written. */
int plot_write_png(const char *path, int width, int height, const plot_panel *panels,
                   int npanels);

#endif
