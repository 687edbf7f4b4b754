/* A tiny bitmap font for chart labels: digits, lower-case letters, a few capitals and some
 * punctuation, 5 pixels wide and 7 high above the baseline plus 2 for descenders. */
#ifndef MNIST_FONT_H
#define MNIST_FONT_H

#include <stdint.h>

enum {
  FONT_W = 5,       /* glyph width */
  FONT_H = 9,       /* glyph height, descenders included */
  FONT_ASCENT = 7,  /* rows above the baseline */
  FONT_ADVANCE = 6, /* horizontal distance between glyphs */
};

/* Writes the FONT_H rows of c's glyph into rows (bit 4 is the leftmost column). A capital without
 * its own glyph uses the lower-case one; any other unknown character is a hollow box. */
void font_glyph(char c, uint8_t rows[FONT_H]);

#endif
