/* Compiled hot path of the minhash stage (tamis.dedup.minhash).
 *
 * Why C and not numba: the cost is tokenising Unicode text (datatrove spends 83% of its time in
 * spaCy, a Python regex shingler caps at ~3,650 docs/s/core here). Walking the code points of a
 * Python str directly with PyUnicode_READ needs no copy, no UTF-8 encode and no JIT warm-up, and
 * the extension builds with the package on any machine that has gcc and the Python headers.
 *
 * Every function here has a plain-Python twin in tamis/dedup/reference.py; the tests check that
 * both give bit-identical results. Keep the two in step.
 *
 * Definitions (the text arrives NFC-normalised and casefolded, or pure ASCII: ASCII letters are
 * folded here, A-Z -> a-z, which is what casefold does to them):
 *   word        maximal run of code points c with Py_UNICODE_ISALNUM(c) or c == '_' (Python's \w)
 *   word hash   FNV-1a-64 over the code points, then the splitmix64 finaliser
 *   shingle     `ngram` consecutive words (a document with fewer words is one shingle of all
 *               of them); char mode: `ngram` consecutive code points of the words joined by ' '
 *   shingle id  64-bit; its high 32 bits are the shingle's fingerprint; a document's fingerprints
 *               are returned as a set: sorted ascending, without repeats (merge-ready for Jaccard)
 *   minhash     perm i of fingerprint x: (a_i * x + b_i) mod 2^32, a_i odd; signature = minima
 *   band key    64-bit mix of the `rows` minima of the band
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define GOLDEN 0x9e3779b97f4a7c15ULL

static inline uint64_t mix64(uint64_t z) {
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z;
}

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* Shingle id from the hashes of its units, in order: each unit times an odd constant of its
 * position (independent multiplies, so they run in parallel), xor-ed, then mixed. */
#define MAX_NGRAM 64
static uint64_t POSITION[MAX_NGRAM];

static inline uint64_t combine(const uint64_t *units, Py_ssize_t n) {
    uint64_t h = GOLDEN ^ (uint64_t)n;
    for (Py_ssize_t k = 0; k < n; k++) h ^= units[k] * POSITION[k];
    return mix64(h);
}


typedef struct {
    uint64_t *data;
    Py_ssize_t len, cap;
} u64vec;

static int u64vec_push(u64vec *v, uint64_t x) {
    if (v->len == v->cap) {
        Py_ssize_t cap = v->cap ? v->cap * 2 : 1024;
        uint64_t *d = realloc(v->data, (size_t)cap * sizeof(uint64_t));
        if (!d) return -1;
        v->data = d;
        v->cap = cap;
    }
    v->data[v->len++] = x;
    return 0;
}

typedef struct {
    uint32_t *data;
    Py_ssize_t len, cap;
} u32vec;

static int u32vec_reserve(u32vec *v, Py_ssize_t extra) {
    if (v->len + extra <= v->cap) return 0;
    Py_ssize_t cap = v->cap ? v->cap : 4096;
    while (cap < v->len + extra) cap *= 2;
    uint32_t *d = realloc(v->data, (size_t)cap * sizeof(uint32_t));
    if (!d) return -1;
    v->data = d;
    v->cap = cap;
    return 0;
}

/* Word characters among the first 256 code points and, as bits, in the Basic Multilingual Plane
 * (filled at import from Py_UNICODE_ISALNUM: one load instead of two Unicode database lookups). */
static unsigned char LATIN1_WORD[256];
static unsigned char WORD_BMP[0x10000 / 8];

#if PY_VERSION_HEX < 0x030D0000
#define HAVE_FOLD 1
/* str.casefold of each BMP code point that folds to one code point; FOLD_MANY: it folds to
 * several (ß -> ss), looked up in full then. */
#define FOLD_MANY 0xFFFFFFFFu
static uint32_t FOLD_BMP[0x10000];
/* FOLD_CLASS: one load per BMP code point for the folding loop: its single folded code point
 * (F_CP bits) or F_MANY, and whether the folded and the raw code point are word characters
 * and of an unspaced script (the unspaced bits are filled by set_unspaced). */
#define F_CP 0x1FFFFFu
#define F_MANY (1u << 24)
#define F_WORD (1u << 25)
#define F_UNSPACED (1u << 26)
#define R_WORD (1u << 27)
#define R_UNSPACED (1u << 28)
static uint32_t FOLD_CLASS[0x10000];
#else
#define HAVE_FOLD 0
#endif

static void init_tables(void) {
    for (int k = 0; k < MAX_NGRAM; k++) POSITION[k] = mix64(GOLDEN * (uint64_t)(k + 1)) | 1;
    for (Py_UCS4 c = 0; c < 256; c++) LATIN1_WORD[c] = c == '_' || Py_UNICODE_ISALNUM(c);
    for (Py_UCS4 c = 0; c < 0x10000; c++) {
        if (c == '_' || Py_UNICODE_ISALNUM(c)) WORD_BMP[c >> 3] |= (unsigned char)(1u << (c & 7));
#if HAVE_FOLD
        Py_UCS4 folded[3];
        FOLD_BMP[c] = _PyUnicode_ToFoldedFull(c, folded) == 1 ? folded[0] : FOLD_MANY;
#endif
    }
#if HAVE_FOLD
    /* \w of c and of its fold read from WORD_BMP, filled above by the same test (a second
     * Py_UNICODE_ISALNUM per code point and per fold was a third of the module's import) */
#define BMP_WORD(c) ((WORD_BMP[(c) >> 3] >> ((c) & 7)) & 1)
    for (Py_UCS4 c = 0; c < 0x10000; c++) {
        Py_UCS4 f = FOLD_BMP[c];
        uint32_t e = BMP_WORD(c) ? R_WORD : 0;
        if (f == FOLD_MANY) e |= F_MANY;
        else e |= f | ((f < 0x10000 ? BMP_WORD(f) : f == '_' || Py_UNICODE_ISALNUM(f)) ? F_WORD : 0);
        FOLD_CLASS[c] = e;
    }
#undef BMP_WORD
#endif
}

/* ASCII letters are folded here (A-Z -> a-z: what casefold does to them), so ASCII text may skip
 * the Python-side casefold. */
#define FOLD(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define IS_WORD(c) ((c) < 256 ? LATIN1_WORD[c] : (c) < 0x10000 ? (WORD_BMP[(c) >> 3] >> ((c) & 7)) & 1 : Py_UNICODE_ISALNUM(c))

/* Unit mode 2: a code point of a script written without spaces (tamis.dedup.shingles, which
 * hands its set over with set_unspaced) is a unit of its own, as if shingle_text had put spaces
 * around it: the same units without a copy of the text. */
#define CODE_POINTS 0x110000
static unsigned char UNSPACED_BITS[CODE_POINTS / 8];
static Py_UCS4 UNSPACED_MIN = CODE_POINTS;
static int UNSPACED_SET = 0;
#define IS_UNSPACED(c) ((c) >= UNSPACED_MIN && ((UNSPACED_BITS[(c) >> 3] >> ((c) & 7)) & 1))
/* Mode bit 8 (with unit mode 2): the per-document rule of tamis.dedup.shingles. A document whose
 * unspaced-script characters are at least UNSPACED_SHARE of its word characters (counted on the
 * text as given, before folding) has every word character as a unit of its own: the units
 * shingles.spread_mostly_unspaced's spaces would give, decided and applied here without a
 * Python pass or a copy. */
#define DOCUMENT_RULE 8
static double UNSPACED_SHARE = 0.1;

#define COUNT_LOOP(TYPE)                                         \
    do {                                                         \
        const TYPE *p = (const TYPE *)data;                      \
        for (Py_ssize_t i = 0; i < n; i++) {                     \
            Py_UCS4 c = p[i];                                    \
            word += IS_WORD(c);                                  \
            unspaced += IS_UNSPACED(c);                          \
        }                                                        \
    } while (0)

/* shingles.mostly_unspaced(text): exactly its counts (\w is IS_WORD, the unspaced set is
 * UNSPACED_BITS) and its comparison, in double as Python does it. */
static int mostly_unspaced(PyObject *text) {
    if (PyUnicode_IS_ASCII(text)) return 0;
    int kind = PyUnicode_KIND(text);
    if (kind == PyUnicode_1BYTE_KIND && UNSPACED_MIN > 0xff) return 0;
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), word = 0, unspaced = 0;
    if (kind == PyUnicode_1BYTE_KIND) COUNT_LOOP(Py_UCS1);
    else if (kind == PyUnicode_2BYTE_KIND) COUNT_LOOP(Py_UCS2);
    else COUNT_LOOP(Py_UCS4);
    return unspaced > 0 && (double)unspaced >= UNSPACED_SHARE * (double)word;
}

/* One loop per storage kind (the compiler specialises each), so reading a code point is a plain
 * load. The hashes depend on the code points only, never on the kind. */
#define UNITS_LOOP(TYPE)                                                                              \
    do {                                                                                              \
        const TYPE *p = (const TYPE *)data;                                                           \
        while (i < n) {                                                                               \
            Py_UCS4 c = p[i];                                                                         \
            if (!IS_WORD(c)) {                                                                        \
                i++;                                                                                  \
                continue;                                                                             \
            }                                                                                         \
            if (every) {                                                                              \
                if (u64vec_push(units, mix64((FNV_OFFSET ^ (uint64_t)FOLD(c)) * FNV_PRIME)) < 0) return -1; \
                i++;                                                                                  \
            } else if (char_mode == 1) {                                                              \
                if (words && u64vec_push(units, mix64(FNV_OFFSET ^ (uint64_t)' ')) < 0) return -1;    \
                while (i < n && IS_WORD(c = p[i])) {                                                  \
                    if (u64vec_push(units, mix64(FNV_OFFSET ^ (uint64_t)FOLD(c))) < 0) return -1;           \
                    i++;                                                                              \
                }                                                                                     \
            } else if (char_mode == 2 && IS_UNSPACED(c)) {                                            \
                if (u64vec_push(units, mix64((FNV_OFFSET ^ (uint64_t)FOLD(c)) * FNV_PRIME)) < 0) return -1; \
                i++;                                                                                  \
            } else {                                                                                  \
                uint64_t h = FNV_OFFSET;                                                              \
                while (i < n && IS_WORD(c = p[i]) && !(char_mode == 2 && IS_UNSPACED(c))) {           \
                    h = (h ^ (uint64_t)FOLD(c)) * FNV_PRIME;                                          \
                    i++;                                                                              \
                }                                                                                     \
                if (u64vec_push(units, mix64(h)) < 0) return -1;                                      \
            }                                                                                         \
            words++;                                                                                  \
        }                                                                                             \
    } while (0)

/* Hashes of the units of one text: words (char_mode 0), code points of the words joined by
 * single spaces (char_mode 1), or words with each unspaced-script code point a word (char_mode 2). */
/* Mode bit 4: the text is NFC but not casefolded; each code point is folded here as str.casefold
 * folds it (CPython's own table: one code point may become up to three), and the folded code
 * points go through the same rules as above, one at a time. */
#define FOLD_IN_C 4

static int folded_units(PyObject *text, int char_mode, int every, u64vec *units) {
#if HAVE_FOLD
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int in_word = 0, words = 0;
    uint64_t h = FNV_OFFSET;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 raw = PyUnicode_READ(kind, data, i), folded[3];
        int m = 1;
        if (raw < 128) folded[0] = FOLD(raw);
        else if (raw < 0x10000 && FOLD_BMP[raw] != FOLD_MANY) folded[0] = FOLD_BMP[raw];
        else m = _PyUnicode_ToFoldedFull(raw, folded);
        /* Every-character document: a word character of the text stands between spaces (what
         * spread_mostly_unspaced writes before folding), so it ends the unit before it and its
         * folded code points form units of their own. */
        int alone = every && IS_WORD(raw);
        if (alone && in_word) {
            if (u64vec_push(units, mix64(h)) < 0) return -1;
            in_word = 0;
        }
        for (int k = 0; k < m; k++) {
            Py_UCS4 c = folded[k];
            if (!IS_WORD(c)) {
                if (in_word && char_mode != 1 && u64vec_push(units, mix64(h)) < 0) return -1;
                in_word = 0;
            } else if (char_mode == 1) {
                if (!in_word) {
                    if (words && u64vec_push(units, mix64(FNV_OFFSET ^ (uint64_t)' ')) < 0) return -1;
                    words++;
                    in_word = 1;
                }
                if (u64vec_push(units, mix64(FNV_OFFSET ^ (uint64_t)c)) < 0) return -1;
            } else if (char_mode == 2 && IS_UNSPACED(c)) {
                if (in_word && u64vec_push(units, mix64(h)) < 0) return -1;
                in_word = 0;
                if (u64vec_push(units, mix64((FNV_OFFSET ^ (uint64_t)c) * FNV_PRIME)) < 0) return -1;
            } else {
                if (!in_word) {
                    h = FNV_OFFSET;
                    in_word = 1;
                }
                h = (h ^ (uint64_t)c) * FNV_PRIME;
            }
        }
        if (alone && in_word) {
            if (u64vec_push(units, mix64(h)) < 0) return -1;
            in_word = 0;
        }
    }
    if (in_word && char_mode != 1 && u64vec_push(units, mix64(h)) < 0) return -1;
    return 0;
#else
    return -2;
#endif
}

/* The units are written unmixed (the FNV state of a word, or of one code point) and mixed in
 * one pass at the end (mix_units): the same values, with no mix64 in the character loop. The
 * vector always has room for one more unit per code point left (one_more_each), so the common
 * case stores without a capacity check. */
#define STORE_UNIT(value)                                                    \
    do {                                                                     \
        ud[ul++] = (value);                                                  \
    } while (0)
#define FLUSH_WORD()                                                         \
    do {                                                                     \
        if (in_word) {                                                       \
            STORE_UNIT(h);                                                   \
            in_word = 0;                                                     \
            h = FNV_OFFSET; /* COMMON_CP's invariant outside a word */        \
        }                                                                    \
    } while (0)
/* The vector's data and length live in locals (ud, ul) in the loops: stored through the
 * struct, every unit written would make the compiler reload and store its length. */
#define UNITS_OUT() (units->len = ul)
#define UNITS_IN() (ud = units->data, ul = units->len)

static int one_more_each(u64vec *v, Py_ssize_t left) {
    Py_ssize_t need = v->len + left + 4;
    if (need <= v->cap) return 0;
    Py_ssize_t cap = v->cap ? v->cap : 1024;
    while (cap < need) cap *= 2;
    uint64_t *d = realloc(v->data, (size_t)cap * sizeof(uint64_t));
    if (!d) return -1;
    v->data = d;
    v->cap = cap;
    return 0;
}

static void mix_units(u64vec *v, Py_ssize_t from) {
    for (Py_ssize_t k = from; k < v->len; k++) v->data[k] = mix64(v->data[k]);
}

/* The common code point (one folded code point, no unit of its own) without a branch: word
 * ends are unpredictable, and a mispredicted branch per word cost more than the arithmetic.
 * Outside a word h is FNV_OFFSET, so a word code point always continues h (no select before
 * the multiply: the loop's dependency chain is xor, multiply, mask). A non-word code point
 * stores h (counted only at the end of a word) and resets it. */
#define COMMON_CP(cp, is_word)                                               \
    do {                                                                     \
        uint64_t w_ = (is_word), word_mask_ = 0 - w_;                        \
        ud[ul] = h;                                                          \
        ul += (Py_ssize_t)(in_word & (w_ ^ 1));                              \
        uint64_t next_ = (h ^ (uint64_t)(cp)) * FNV_PRIME;                   \
        h = (next_ & word_mask_) | (FNV_OFFSET & ~word_mask_);               \
        in_word = w_;                                                        \
    } while (0)

#if HAVE_FOLD
/* The entry of FOLD_CLASS for any code point (computed outside the BMP). */
static uint32_t fold_class(Py_UCS4 c) {
    if (c < 0x10000) return FOLD_CLASS[c];
    Py_UCS4 folded[3];
    uint32_t e = (IS_WORD(c) ? R_WORD : 0) | (IS_UNSPACED(c) ? R_UNSPACED : 0);
    if (_PyUnicode_ToFoldedFull(c, folded) != 1) return e | F_MANY;
    return e | folded[0] | (IS_WORD(folded[0]) ? F_WORD : 0) | (IS_UNSPACED(folded[0]) ? F_UNSPACED : 0);
}

/* Word units (mode 0) or words with unspaced code points alone (mode 2) of a text that is NFC
 * but not casefolded: folded_units's rules for those modes, one table load per code point
 * (FOLD_CLASS) and one loop per storage kind. It also counts the raw word and unspaced code
 * points (mostly_unspaced's counts) so the per-document rule needs no pass of its own. */
#define FOLDED_LOOP(TYPE)                                                                         \
    do {                                                                                          \
        const TYPE *p = (const TYPE *)data;                                                       \
        for (Py_ssize_t i = 0; i < n; i++) {                                                      \
            Py_UCS4 raw = p[i];                                                                   \
            uint32_t e = sizeof(TYPE) < 4 ? FOLD_CLASS[raw] : fold_class(raw);                    \
            word += (e >> 27) & 1;                                                                \
            unspaced += (e >> 28) & 1;                                                            \
            if (!(e & rare)) {                                                                    \
                COMMON_CP(e & F_CP, (e >> 25) & 1);                                               \
                continue;                                                                         \
            }                                                                                     \
            UNITS_OUT();                                                                          \
            if (one_more_each(units, 4 * (n - i)) < 0) return -1;                                 \
            UNITS_IN();                                                                           \
            if (e & F_MANY) {                                                                     \
                Py_UCS4 folded[3];                                                                \
                int m = _PyUnicode_ToFoldedFull(raw, folded), alone = every && (e & R_WORD);      \
                if (alone) FLUSH_WORD();                                                          \
                for (int k = 0; k < m; k++) {                                                     \
                    Py_UCS4 c = folded[k];                                                        \
                    if (!IS_WORD(c)) {                                                            \
                        FLUSH_WORD();                                                             \
                    } else if (unspaced_units && IS_UNSPACED(c)) {                                \
                        FLUSH_WORD();                                                             \
                        STORE_UNIT((FNV_OFFSET ^ (uint64_t)c) * FNV_PRIME);                       \
                    } else {                                                                      \
                        if (!in_word) {                                                           \
                            h = FNV_OFFSET;                                                       \
                            in_word = 1;                                                          \
                        }                                                                         \
                        h = (h ^ (uint64_t)c) * FNV_PRIME;                                        \
                    }                                                                             \
                }                                                                                 \
                if (alone) FLUSH_WORD();                                                          \
            } else if (!(e & F_WORD)) {                                                           \
                FLUSH_WORD();                                                                     \
            } else if ((unspaced_units && (e & F_UNSPACED)) || (every && (e & R_WORD))) {         \
                FLUSH_WORD();                                                                     \
                STORE_UNIT((FNV_OFFSET ^ (uint64_t)(e & F_CP)) * FNV_PRIME);                      \
            } else {                                                                              \
                COMMON_CP(e & F_CP, 1);                                                           \
            }                                                                                     \
        }                                                                                         \
    } while (0)

static int folded_word_units(PyObject *text, int char_mode, int every, u64vec *units, Py_ssize_t *word_count, Py_ssize_t *unspaced_count) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), word = 0, unspaced = 0;
    uint64_t in_word = 0;
    int unspaced_units = char_mode == 2;
    /* What leaves the common case: several folded code points, or a unit of its own. */
    uint32_t rare = F_MANY | (unspaced_units ? F_UNSPACED : 0) | (every ? R_WORD : 0);
    uint64_t h = FNV_OFFSET, *ud;
    Py_ssize_t ul;
    units->len = 0;
    if (one_more_each(units, n) < 0) return -1;
    UNITS_IN();
    if (kind == PyUnicode_1BYTE_KIND) FOLDED_LOOP(Py_UCS1);
    else if (kind == PyUnicode_2BYTE_KIND) FOLDED_LOOP(Py_UCS2);
    else FOLDED_LOOP(Py_UCS4);
    FLUSH_WORD();
    UNITS_OUT();
    mix_units(units, 0);
    *word_count = word;
    *unspaced_count = unspaced;
    return 0;
}
#endif

/* Word units of an ASCII text (unit modes 0 and 2: no ASCII code point is of an unspaced
 * script, checked by the caller): UNITS_LOOP's values, branch-free per byte as COMMON_CP. */
static int ascii_word_units(PyObject *text, u64vec *units) {
    const Py_UCS1 *p = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    uint64_t in_word = 0, h = FNV_OFFSET, *ud;
    Py_ssize_t ul;
    units->len = 0;
    if (one_more_each(units, n) < 0) return -1;
    UNITS_IN();
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = p[i];
        COMMON_CP(FOLD(c), LATIN1_WORD[c]);
    }
    FLUSH_WORD();
    UNITS_OUT();
    mix_units(units, 0);
    return 0;
}

static int text_units(PyObject *text, int char_mode, u64vec *units) {
#if HAVE_FOLD
    if ((char_mode & FOLD_IN_C) && (char_mode & 3) != 1 && !PyUnicode_IS_ASCII(text)) {
        /* Units by the word rules, counting as it goes; a document the per-document rule then
         * takes (a tenth or so of them) is cut again with every word character alone. */
        Py_ssize_t word, unspaced;
        if (folded_word_units(text, char_mode & 3, 0, units, &word, &unspaced) < 0) return -1;
        if ((char_mode & DOCUMENT_RULE) && unspaced > 0 && (double)unspaced >= UNSPACED_SHARE * (double)word)
            return folded_word_units(text, char_mode & 3, 1, units, &word, &unspaced);
        return 0;
    }
#endif
    if ((char_mode & 3) != 1 && PyUnicode_IS_ASCII(text) && UNSPACED_MIN >= 128) return ascii_word_units(text, units);
    int every = (char_mode & DOCUMENT_RULE) && mostly_unspaced(text);
    if ((char_mode & FOLD_IN_C) && !PyUnicode_IS_ASCII(text)) {
        units->len = 0;
        return folded_units(text, char_mode & 3, every, units);
    }
    char_mode &= 3;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    units->len = 0;
    Py_ssize_t i = 0;
    int words = 0;
    if (kind == PyUnicode_1BYTE_KIND) UNITS_LOOP(Py_UCS1);
    else if (kind == PyUnicode_2BYTE_KIND) UNITS_LOOP(Py_UCS2);
    else UNITS_LOOP(Py_UCS4);
    return 0;
}

/* The inner loop: one multiply-add-min per permutation and fingerprint. Permutations are taken
 * PERM_BLOCK at a time (GROUP vectors of 8 lanes on AVX2, 4 on SSE4.1): their minima stay in
 * registers for the whole fingerprint set instead of being loaded and stored once per
 * fingerprint. a, b and mins are padded to a multiple of PERM_BLOCK (the padding lanes compute
 * minima nobody reads). Dispatched once on the CPU's features; every variant computes the same
 * 32-bit (a * x + b) minima as the plain loop, so every signature is the same. */
#define GROUP 4
#define PERM_BLOCK 32

static void minhash_update_plain(const uint32_t *restrict xs, Py_ssize_t n, const uint32_t *restrict a, const uint32_t *restrict b,
                                 uint32_t *restrict mins, int padded_perms) {
    for (Py_ssize_t k = 0; k < n; k++) {
        uint32_t x = xs[k];
        for (int i = 0; i < padded_perms; i++) {
            uint32_t v = a[i] * x + b[i];
            mins[i] = v < mins[i] ? v : mins[i];
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_UPDATE 1
__attribute__((target("avx2"))) static void minhash_update_avx2(const uint32_t *restrict xs, Py_ssize_t n, const uint32_t *restrict a,
                                                                 const uint32_t *restrict b, uint32_t *restrict mins, int padded_perms) {
    for (int i = 0; i < padded_perms; i += PERM_BLOCK) {
        __m256i va[GROUP], vb[GROUP], vm[GROUP];
        for (int g = 0; g < GROUP; g++) {
            va[g] = _mm256_loadu_si256((const __m256i *)(a + i + 8 * g));
            vb[g] = _mm256_loadu_si256((const __m256i *)(b + i + 8 * g));
            vm[g] = _mm256_loadu_si256((const __m256i *)(mins + i + 8 * g));
        }
        for (Py_ssize_t k = 0; k < n; k++) {
            __m256i x = _mm256_set1_epi32((int)xs[k]);
            for (int g = 0; g < GROUP; g++) vm[g] = _mm256_min_epu32(vm[g], _mm256_add_epi32(_mm256_mullo_epi32(va[g], x), vb[g]));
        }
        for (int g = 0; g < GROUP; g++) _mm256_storeu_si256((__m256i *)(mins + i + 8 * g), vm[g]);
    }
}

__attribute__((target("sse4.1"))) static void minhash_update_sse41(const uint32_t *restrict xs, Py_ssize_t n, const uint32_t *restrict a,
                                                                    const uint32_t *restrict b, uint32_t *restrict mins, int padded_perms) {
    for (int i = 0; i < padded_perms; i += 4 * GROUP) {
        __m128i va[GROUP], vb[GROUP], vm[GROUP];
        for (int g = 0; g < GROUP; g++) {
            va[g] = _mm_loadu_si128((const __m128i *)(a + i + 4 * g));
            vb[g] = _mm_loadu_si128((const __m128i *)(b + i + 4 * g));
            vm[g] = _mm_loadu_si128((const __m128i *)(mins + i + 4 * g));
        }
        for (Py_ssize_t k = 0; k < n; k++) {
            __m128i x = _mm_set1_epi32((int)xs[k]);
            for (int g = 0; g < GROUP; g++) vm[g] = _mm_min_epu32(vm[g], _mm_add_epi32(_mm_mullo_epi32(va[g], x), vb[g]));
        }
        for (int g = 0; g < GROUP; g++) _mm_storeu_si128((__m128i *)(mins + i + 4 * g), vm[g]);
    }
}
#endif

typedef void (*update_fn)(const uint32_t *restrict, Py_ssize_t, const uint32_t *restrict, const uint32_t *restrict, uint32_t *restrict, int);
static update_fn minhash_update = minhash_update_plain;

/* The fastest variant this CPU runs (use_simd(False) goes back to the plain loop: the tests
 * compare the two). */
static update_fn fastest_update(void) {
#ifdef HAVE_X86_UPDATE
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return minhash_update_avx2;
    if (__builtin_cpu_supports("sse4.1")) return minhash_update_sse41;
#endif
    return minhash_update_plain;
}

/* use_simd(flag) -> bool: sketch's inner loop vectorised (the default) or plain; returns
 * whether a vector variant is now in use. */
static PyObject *use_simd(PyObject *self, PyObject *arg) {
    int flag = PyObject_IsTrue(arg);
    if (flag < 0) return NULL;
    minhash_update = flag ? fastest_update() : minhash_update_plain;
    return PyBool_FromLong(minhash_update != minhash_update_plain);
}

/* perms rounded up to minhash_update's block. */
static inline int padded(int perms) { return (perms + PERM_BLOCK - 1) / PERM_BLOCK * PERM_BLOCK; }

static inline uint64_t band_key(const uint32_t *mins, int rows) {
    uint64_t h = GOLDEN;
    for (int r = 0; r < rows; r++) h = rotl64(h ^ mins[r], 29) * 0xff51afd7ed558ccdULL;
    return mix64(h);
}

static void insertion_sort_u32(uint32_t *v, Py_ssize_t n) {
    for (Py_ssize_t i = 1; i < n; i++) {
        uint32_t x = v[i];
        Py_ssize_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* LSD radix sort, 4 passes of 8 bits (an even count: the result ends in v). */
static void lsd_sort_u32(uint32_t *v, uint32_t *tmp, Py_ssize_t n) {
    Py_ssize_t count[4][256];
    memset(count, 0, sizeof(count));
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t x = v[i];
        count[0][x & 255]++;
        count[1][(x >> 8) & 255]++;
        count[2][(x >> 16) & 255]++;
        count[3][x >> 24]++;
    }
    uint32_t *src = v, *dst = tmp;
    for (int pass = 0; pass < 4; pass++) {
        Py_ssize_t sum = 0;
        for (int d = 0; d < 256; d++) {
            Py_ssize_t c = count[pass][d];
            count[pass][d] = sum;
            sum += c;
        }
        int shift = 8 * pass;
        for (Py_ssize_t i = 0; i < n; i++) dst[count[pass][(src[i] >> shift) & 255]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
}

/* Sort ascending: insertion sort for short inputs; otherwise one pass by the top `bits` bits
 * (fingerprints are hashes, so with about one value a bucket: 2^bits >= n, from 8 to 16 bits)
 * into tmp, then one insertion sort over the whole of tmp where no bucket holds more than
 * MSD_BUCKET values (each value then moves only within its bucket: at most MSD_BUCKET steps),
 * else bucket by bucket, a bucket of more than MSD_BUCKET values (repeats, or more than 2^18
 * values in all) by LSD radix; then back into v. About three passes over the data, every case
 * linear. (qsort was 70% of verification time; 4-pass LSD radix for every large document was a
 * third of the sketch's sorting; four values a bucket sorted bucket by bucket cost ~50% more
 * than this on the bench corpus's documents: the branchy per-bucket loops mispredict.) */
#define MSD_BUCKET 32
#define MSD_MAX_BITS 16
#define MSD_STACK_BITS 12
static void sort_u32(uint32_t *v, uint32_t *tmp, Py_ssize_t n) {
    if (n < 64) {
        insertion_sort_u32(v, n);
        return;
    }
    int bits = 8;
    while (bits < MSD_MAX_BITS && ((Py_ssize_t)1 << bits) < n) bits++;
    Py_ssize_t buckets = (Py_ssize_t)1 << bits;
    Py_ssize_t on_stack[((Py_ssize_t)1 << MSD_STACK_BITS)];
    Py_ssize_t *pos = bits <= MSD_STACK_BITS ? on_stack : malloc((size_t)buckets * sizeof(Py_ssize_t));
    if (pos == NULL) { /* no memory for the counts: the same order by LSD radix */
        lsd_sort_u32(v, tmp, n);
        return;
    }
    int shift = 32 - bits;
    memset(pos, 0, (size_t)buckets * sizeof(Py_ssize_t));
    for (Py_ssize_t i = 0; i < n; i++) pos[v[i] >> shift]++;
    Py_ssize_t sum = 0, largest = 0;
    for (Py_ssize_t d = 0; d < buckets; d++) {
        Py_ssize_t c = pos[d];
        largest = c > largest ? c : largest;
        pos[d] = sum;
        sum += c;
    }
    for (Py_ssize_t i = 0; i < n; i++) tmp[pos[v[i] >> shift]++] = v[i];
    if (largest <= MSD_BUCKET) {
        insertion_sort_u32(tmp, n);
    } else { /* pos[d] is now the end of bucket d; v is free to serve as LSD's scratch. */
        Py_ssize_t lo = 0;
        for (Py_ssize_t d = 0; d < buckets; d++) {
            Py_ssize_t hi = pos[d], len = hi - lo;
            if (len <= MSD_BUCKET) insertion_sort_u32(tmp + lo, len);
            else lsd_sort_u32(tmp + lo, v + lo, len);
            lo = hi;
        }
    }
    memcpy(v, tmp, (size_t)n * sizeof(uint32_t));
    if (pos != on_stack) free(pos);
}

/* The fingerprint (high 32 bits of combine) of each of ns shingles of `width` units. The
 * common widths get a loop whose inner one the compiler unrolls (a constant trip count); the
 * value is combine's either way. */
#define FIXED_WIDTH(W)                                                            \
    case W:                                                                       \
        for (Py_ssize_t s = 0; s < ns; s++) {                                     \
            uint64_t h = GOLDEN ^ (uint64_t)(W);                                  \
            for (Py_ssize_t k = 0; k < (W); k++) h ^= units[s + k] * POSITION[k]; \
            out[s] = (uint32_t)(mix64(h) >> 32);                                  \
        }                                                                         \
        return;
static void shingle_fingerprints(const uint64_t *units, Py_ssize_t ns, Py_ssize_t width, uint32_t *out) {
    switch (width) {
        FIXED_WIDTH(1)
        FIXED_WIDTH(2)
        FIXED_WIDTH(3)
        FIXED_WIDTH(4)
        FIXED_WIDTH(5)
        FIXED_WIDTH(6)
        FIXED_WIDTH(7)
        FIXED_WIDTH(8)
    default:
        for (Py_ssize_t s = 0; s < ns; s++) out[s] = (uint32_t)(combine(units + s, width) >> 32);
    }
}

/* Sort and deduplicate in place; returns the new length. */
static Py_ssize_t sort_unique(uint32_t *v, uint32_t *tmp, Py_ssize_t n) {
    if (n < 2) return n;
    Py_ssize_t k = 1;
    while (k < n && v[k - 1] < v[k]) k++;
    if (k == n) return n; /* already a set (fingerprints are stored that way) */
    sort_u32(v, tmp, n);
    Py_ssize_t w = 1;
    for (Py_ssize_t k = 1; k < n; k++) { /* no branch: a repeat is written and not counted */
        uint32_t x = v[k];
        v[w] = x;
        w += x != v[w - 1];
    }
    return w;
}

/* sketch(texts, ngram, char_mode, a, b, bands, rows)
 *   -> (band_keys: bytes, n*bands uint64; counts: bytes, n uint32; fingerprints: bytes, uint32)
 * a, b: buffers of bands*rows uint32 (a odd). counts[i] = number of shingles of text i (0: no
 * words; its band keys are 0 and must be ignored). Fingerprints are in shingle order. */
static PyObject *sketch(PyObject *self, PyObject *args) {
    PyObject *texts;
    int ngram, char_mode, bands, rows;
    Py_buffer abuf, bbuf;
    if (!PyArg_ParseTuple(args, "O!iiy*y*ii", &PyList_Type, &texts, &ngram, &char_mode, &abuf, &bbuf, &bands, &rows)) return NULL;
    PyObject *result = NULL;
    int perms = bands * rows;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    u64vec units = {0};
    u32vec fps = {0};
    uint32_t *mins = NULL, *tmp = NULL;
    Py_ssize_t tmp_cap = 0;
    PyObject *keys_obj = NULL, *counts_obj = NULL;
    if (char_mode < 0 || char_mode > (DOCUMENT_RULE | FOLD_IN_C | 2) || (char_mode & 3) == 3 || ((char_mode & DOCUMENT_RULE) && (char_mode & 3) != 2)) {
        PyErr_SetString(PyExc_ValueError, "sketch: unit mode must be 0, 1 or 2, plus 4 to fold case in C, plus 8 (mode 2 only) for the per-document rule");
        goto done;
    }
    if ((char_mode & 3) == 2 && !UNSPACED_SET) {
        PyErr_SetString(PyExc_RuntimeError, "sketch: unit mode 2 needs set_unspaced() first");
        goto done;
    }
    if (ngram < 1 || ngram > MAX_NGRAM || bands < 1 || rows < 1 || abuf.len < (Py_ssize_t)perms * 4 || bbuf.len < (Py_ssize_t)perms * 4) {
        PyErr_SetString(PyExc_ValueError, "sketch: bad ngram (1..64), bands or rows, or permutation buffers too short");
        goto done;
    }
    keys_obj = PyBytes_FromStringAndSize(NULL, n * bands * 8);
    counts_obj = PyBytes_FromStringAndSize(NULL, n * 4);
    int wide = padded(perms);
    mins = malloc((size_t)wide * 3 * sizeof(uint32_t));
    if (!keys_obj || !counts_obj || !mins) {
        PyErr_NoMemory();
        goto done;
    }
    uint64_t *keys = (uint64_t *)PyBytes_AS_STRING(keys_obj);
    uint32_t *counts = (uint32_t *)PyBytes_AS_STRING(counts_obj);
    /* The permutations padded for minhash_update (padding: a = 1, b = 0). */
    uint32_t *a = mins + wide, *b = mins + 2 * wide;
    for (int i = 0; i < wide; i++) {
        a[i] = 1;
        b[i] = 0;
    }
    memcpy(a, abuf.buf, (size_t)perms * sizeof(uint32_t));
    memcpy(b, bbuf.buf, (size_t)perms * sizeof(uint32_t));
    for (Py_ssize_t d = 0; d < n; d++) {
        if (!PyUnicode_Check(PyList_GET_ITEM(texts, d))) {
            PyErr_SetString(PyExc_TypeError, "sketch: texts must be str");
            goto done;
        }
    }
    /* The loop runs without the GIL: it reads only the (immutable) texts of a list its caller
     * hands over and no longer touches, static tables and its own buffers, so the first pass
     * can sketch one batch in a helper thread while the main thread reads and hashes the next
     * (SketchSpill). Errors are raised once the GIL is back. */
    int failure = 0; /* 1: no memory; 2: no case folding in C */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n; d++) {
        PyObject *text = PyList_GET_ITEM(texts, d);
        int status = text_units(text, char_mode, &units);
        if (status < 0) {
            failure = status == -2 ? 2 : 1;
            break;
        }
        Py_ssize_t nu = units.len;
        Py_ssize_t ns = nu == 0 ? 0 : (nu < ngram ? 1 : nu - ngram + 1);
        if (u32vec_reserve(&fps, ns) < 0) {
            failure = 1;
            break;
        }
        uint32_t *out = fps.data + fps.len;
        Py_ssize_t width = nu < ngram ? nu : ngram;
        shingle_fingerprints(units.data, ns, width, out);
        if (ns > tmp_cap) {
            free(tmp);
            tmp_cap = ns * 2;
            tmp = malloc((size_t)tmp_cap * sizeof(uint32_t));
            if (!tmp) {
                failure = 1;
                break;
            }
        }
        ns = sort_unique(out, tmp, ns); /* the document's shingle set: fewer MinHash updates, merge-ready */
        counts[d] = (uint32_t)ns;
        uint64_t *doc_keys = keys + d * bands;
        if (ns == 0) {
            memset(doc_keys, 0, (size_t)bands * 8);
        } else {
            memset(mins, 0xff, (size_t)wide * sizeof(uint32_t));
            minhash_update(out, ns, a, b, mins, wide);
            for (int j = 0; j < bands; j++) doc_keys[j] = band_key(mins + j * rows, rows);
        }
        fps.len += ns;
    }
    Py_END_ALLOW_THREADS
    if (failure) {
        if (failure == 2) PyErr_SetString(PyExc_NotImplementedError, "sketch: case folding in C needs CPython < 3.13");
        else PyErr_NoMemory();
        goto done;
    }
    PyObject *fp_obj = PyBytes_FromStringAndSize((const char *)fps.data, fps.len * 4);
    if (fp_obj) result = PyTuple_Pack(3, keys_obj, counts_obj, fp_obj);
    Py_XDECREF(fp_obj);
done:
    Py_XDECREF(keys_obj);
    Py_XDECREF(counts_obj);
    free(mins);
    free(tmp);
    free(units.data);
    free(fps.data);
    PyBuffer_Release(&abuf);
    PyBuffer_Release(&bbuf);
    return result;
}

/* ------------------------------------------------------------------ exact Jaccard */

/* jaccard_pairs(fingerprints, offsets, left, right[, threshold, known_sets]) -> bytes of float64
 * fingerprints: uint32 buffer holding several documents' fingerprints (any order, repeats
 * allowed), document k at [offsets[k], offsets[k+1]); left/right: int64 document indices.
 * known_sets: the caller has checked that each document's fingerprints are strictly increasing
 * (the check over the whole buffer is skipped: a verify task scores many batches against one
 * preloaded buffer, and checked it on every batch). */
static PyObject *jaccard_pairs(PyObject *self, PyObject *args) {
    Py_buffer fbuf, obuf, lbuf, rbuf;
    double threshold = 0.0;
    int known_sets = 0; /* the caller checked that every document's fingerprints are a set */
    if (!PyArg_ParseTuple(args, "y*y*y*y*|dp", &fbuf, &obuf, &lbuf, &rbuf, &threshold, &known_sets)) return NULL;
    PyObject *result = NULL;
    uint32_t *sets = NULL, *tmp = NULL;
    Py_ssize_t *sizes = NULL;
    Py_ssize_t ndocs = obuf.len / 8 - 1, npairs = lbuf.len / 8;
    const int64_t *off = obuf.buf, *left = lbuf.buf, *right = rbuf.buf;
    if (ndocs < 0 || rbuf.len != lbuf.len || (ndocs >= 0 && off[ndocs] * 4 > fbuf.len)) {
        PyErr_SetString(PyExc_ValueError, "jaccard_pairs: inconsistent buffers");
        goto done;
    }
    sizes = malloc((size_t)(ndocs + 1) * sizeof(Py_ssize_t));
    if (!sizes) {
        PyErr_NoMemory();
        goto done;
    }
    /* Stored fingerprints are already sets (sorted, no repeats): use them in place. Anything
     * else is copied and made into sets first. */
    const uint32_t *input = fbuf.buf;
    int all_sets = 1, check = !known_sets; /* checked once by a caller that scores many batches */
    Py_ssize_t longest = 1;
    for (Py_ssize_t k = 0; k < ndocs; k++) {
        Py_ssize_t len = off[k + 1] - off[k];
        longest = len > longest ? len : longest;
        sizes[k] = len;
        for (Py_ssize_t q = off[k] + 1; check && all_sets && q < off[k + 1]; q++) all_sets = input[q - 1] < input[q];
    }
    const uint32_t *sets_view = input;
    if (!all_sets) {
        sets = malloc((size_t)(fbuf.len ? fbuf.len : 4));
        tmp = malloc((size_t)longest * sizeof(uint32_t));
        if (!sets || !tmp) {
            PyErr_NoMemory();
            goto done;
        }
        memcpy(sets, fbuf.buf, (size_t)fbuf.len);
        for (Py_ssize_t k = 0; k < ndocs; k++) sizes[k] = sort_unique(sets + off[k], tmp, off[k + 1] - off[k]);
        sets_view = sets;
    }
    result = PyBytes_FromStringAndSize(NULL, npairs * 8);
    if (!result) goto done;
    double *sim = (double *)PyBytes_AS_STRING(result);
    for (Py_ssize_t p = 0; p < npairs; p++) {
        int64_t i = left[p], j = right[p];
        if (i < 0 || j < 0 || i >= ndocs || j >= ndocs) {
            Py_CLEAR(result);
            PyErr_SetString(PyExc_IndexError, "jaccard_pairs: document index out of range");
            goto done;
        }
        const uint32_t *x = sets_view + off[i], *y = sets_view + off[j];
        Py_ssize_t nx = sizes[i], ny = sizes[j], a = 0, b = 0, inter = 0;
        /* J >= t  <=>  inter >= t (nx + ny) / (1 + t). With a threshold, stop as soon as the
         * intersection cannot reach it any more (most failing candidates stop early) and report
         * the upper bound reached, which is below t. The margin keeps every pair that passes. */
        double need = threshold > 0 ? threshold * (double)(nx + ny) / (1.0 + threshold) - 1e-9 : -1.0;
        int cut = 0;
        while (a < nx && b < ny) {
            Py_ssize_t stop = a + 64 < nx ? a + 64 : nx;
            while (a < stop && b < ny) { /* branch-free merge: the comparisons are coin flips */
                uint32_t xa = x[a], yb = y[b];
                inter += xa == yb;
                a += xa <= yb;
                b += yb <= xa;
            }
            Py_ssize_t rest = nx - a < ny - b ? nx - a : ny - b;
            if ((double)(inter + rest) < need) {
                inter += rest;
                cut = 1;
                break;
            }
        }
        Py_ssize_t uni = nx + ny - inter;
        sim[p] = uni ? (double)inter / (double)uni : 0.0;
        if (cut && sim[p] >= threshold) sim[p] = 0.0; /* cannot happen; never report a pass */
    }
done:
    free(sets);
    free(tmp);
    free(sizes);
    PyBuffer_Release(&fbuf);
    PyBuffer_Release(&obuf);
    PyBuffer_Release(&lbuf);
    PyBuffer_Release(&rbuf);
    return result;
}

/* ------------------------------------------------------------------ union-find */

static inline uint32_t find_root(uint32_t *parent, uint32_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]]; /* path halving */
        x = parent[x];
    }
    return x;
}

/* union_edges(parent, edges): parent is a writable uint32 array (parent[i] <= i always: the root
 * of a set is its smallest member, so labels do not depend on edge order); edges is a uint32
 * buffer of (u, v) pairs. */
static PyObject *union_edges(PyObject *self, PyObject *args) {
    Py_buffer pbuf, ebuf;
    if (!PyArg_ParseTuple(args, "w*y*", &pbuf, &ebuf)) return NULL;
    uint32_t *parent = pbuf.buf;
    const uint32_t *e = ebuf.buf;
    Py_ssize_t n = pbuf.len / 4, m = ebuf.len / 8;
    PyObject *result = NULL;
    for (Py_ssize_t k = 0; k < m; k++) {
        uint32_t u = e[2 * k], v = e[2 * k + 1];
        if ((Py_ssize_t)u >= n || (Py_ssize_t)v >= n) {
            PyErr_SetString(PyExc_IndexError, "union_edges: node out of range");
            goto done;
        }
        uint32_t ru = find_root(parent, u), rv = find_root(parent, v);
        if (ru < rv) parent[rv] = ru;
        else if (rv < ru) parent[ru] = rv;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&pbuf);
    PyBuffer_Release(&ebuf);
    return result;
}

/* flatten(parent): every entry becomes its set's root (one pass, since parent[i] <= i). */
static PyObject *flatten(PyObject *self, PyObject *args) {
    Py_buffer pbuf;
    if (!PyArg_ParseTuple(args, "w*", &pbuf)) return NULL;
    uint32_t *parent = pbuf.buf;
    Py_ssize_t n = pbuf.len / 4;
    for (Py_ssize_t i = 0; i < n; i++) parent[i] = parent[parent[i]];
    PyBuffer_Release(&pbuf);
    Py_RETURN_NONE;
}

/* set_unspaced(bitmap[, share]): bit c set for every code point c of a script written without
 * spaces; share: shingles.UNSPACED_DOCUMENT_SHARE, the per-document rule's threshold (mode 8). */
static PyObject *set_unspaced(PyObject *self, PyObject *args) {
    Py_buffer buf;
    double share = 0.1;
    if (!PyArg_ParseTuple(args, "y*|d:set_unspaced", &buf, &share)) return NULL;
    UNSPACED_SHARE = share;
    if (buf.len != CODE_POINTS / 8) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "set_unspaced: the bitmap must have one bit per code point (139264 bytes)");
        return NULL;
    }
    memcpy(UNSPACED_BITS, buf.buf, CODE_POINTS / 8);
    PyBuffer_Release(&buf);
    UNSPACED_MIN = CODE_POINTS;
    for (Py_UCS4 c = 0; c < CODE_POINTS; c++)
        if ((UNSPACED_BITS[c >> 3] >> (c & 7)) & 1) {
            UNSPACED_MIN = c;
            break;
        }
#if HAVE_FOLD
    for (Py_UCS4 c = 0; c < 0x10000; c++) {
        uint32_t e = FOLD_CLASS[c] & ~(F_UNSPACED | R_UNSPACED);
        if (IS_UNSPACED(c)) e |= R_UNSPACED;
        if (!(e & F_MANY) && IS_UNSPACED(e & F_CP)) e |= F_UNSPACED;
        FOLD_CLASS[c] = e;
    }
#endif
    UNSPACED_SET = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"set_unspaced", set_unspaced, METH_VARARGS, "Set the code points that are units of their own in unit mode 2 (and the per-document share)."},
    {"sketch", sketch, METH_VARARGS, "Band keys, shingle counts and fingerprints of a list of normalised texts."},
    {"jaccard_pairs", jaccard_pairs, METH_VARARGS, "Exact Jaccard of fingerprint sets for pairs of documents."},
    {"union_edges", union_edges, METH_VARARGS, "Union-find over a buffer of uint32 edges (root = smallest member)."},
    {"flatten", flatten, METH_VARARGS, "Point every node at its root."},
    {"use_simd", use_simd, METH_O, "Vectorised (True, the default) or plain MinHash inner loop; returns whether a vector variant is in use."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_minhash", "Compiled hot path of tamis's minhash stage.", -1, methods};

PyMODINIT_FUNC PyInit__minhash(void) {
    init_tables();
    minhash_update = fastest_update();
    return PyModule_Create(&module);
}
