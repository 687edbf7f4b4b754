/* The text corpus of the transformer_lm example: Debian's fortunes, as bytes. */
#ifndef TRANSFORMER_LM_DATA_H
#define TRANSFORMER_LM_DATA_H

#include <stddef.h>
#include <stdint.h>

/* Maps bytes to token ids and back: the distinct bytes of the corpus, ascending. */
typedef struct vocab {
  int size;
  uint8_t chars[256]; /* token id -> byte */
  int16_t ids[256];   /* byte -> token id, -1 if the byte is not in the vocabulary */
} vocab;

/* The corpus split into training and validation token ids. */
typedef struct corpus {
  int32_t *train, *val;
  size_t ntrain, nval;
  int nfiles;
} corpus;

/* Reads every plain text file of `dir` (not the .dat/.u8 index files) in name order, up to
 * `limit` bytes in all (0: no limit). Every tenth fortune (they end with a "%" line) goes to the
 * validation split. Builds *v from the text unless v->size is already set (a resumed model's
 * vocabulary: bytes it lacks are dropped). Returns 0, or -1 after printing why. */
int corpus_load(const char *dir, size_t limit, vocab *v, corpus *c);
void corpus_free(corpus *c);

/* Sets v from the bytes `chars` (n of them, distinct). Returns 0, or -1 if they are not. */
int vocab_set(vocab *v, const uint8_t *chars, int n);

#endif
