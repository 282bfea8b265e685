/* Compiled text primitives used on every document (tamis.text, tamis.stats).
 *
 * The plain-Python definitions in tamis/text.py (normalize_for_hash) and tamis/stats.py
 * (len(text.split())) are the reference; tests/test_native_text.py checks both agree.
 *
 *   fold_spaces_utf8(s)  s is already NFC and casefolded. Returns the UTF-8 bytes of s with
 *                        every run of whitespace (Py_UNICODE_ISSPACE, the definition str.split
 *                        uses) turned into one space, leading/trailing whitespace removed, and
 *                        typographic apostrophes replaced by '. Lone surrogates are encoded as
 *                        with "surrogatepass", so no input can fail.
 *   fold_spaces_utf8(s, casefold=True)
 *                        the same, case-folding s on the way (full Unicode case folding, as
 *                        str.casefold does), so no folded copy of the text is built. Needs
 *                        CPython's _PyUnicode_ToFoldedFull (3.11, 3.12); elsewhere it raises
 *                        NotImplementedError and the caller folds in Python first.
 *   count_words(s)       the number of maximal runs of non-whitespace, i.e. len(s.split()).
 *   utf8_length(s)       len(s.encode("utf-8", "surrogatepass")) without encoding.
 *   repair_lines(s, min_chars)
 *                        tamis.steps.repetition.repair_repetition(s, min_chars) for a text in
 *                        NFC (its reference, tested against it): (repaired text, lines removed,
 *                        every non-blank line identical), the lines' comparison keys made and
 *                        compared in one pass without an object per line.
 */
#include "unicode_core.h"
#define XXH_INLINE_ALL
#include "xxhash.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* For one-byte strings: the UTF-8 of each code point once folded (case folding and
 * apostrophes), computed at import from the same rules as the general loop below. */
static unsigned char latin1_fold_utf8[256][8];
static unsigned char latin1_fold_len[256];
static unsigned char latin1_plain_utf8[256][4];
static unsigned char latin1_plain_len[256];

static void init_latin1_fold(void) {
    for (int c = 0; c < 256; c++) {
        Py_UCS4 folded[3];
        int n_folded = 1;
        folded[0] = (Py_UCS4)c;
#if PY_VERSION_HEX < 0x030D0000
        if (c >= 128) n_folded = _PyUnicode_ToFoldedFull((Py_UCS4)c, folded);
#endif
        if (c < 128 && c >= 'A' && c <= 'Z') folded[0] = (Py_UCS4)(c + 32);
        Py_ssize_t len = 0;
        for (int k = 0; k < n_folded; k++) {
            Py_UCS4 f = is_apostrophe(folded[k]) ? '\'' : folded[k];
            len = put_utf8(latin1_fold_utf8[c], len, f);
        }
        latin1_fold_len[c] = (unsigned char)len;
        Py_UCS4 plain = is_apostrophe((Py_UCS4)c) ? '\'' : (Py_UCS4)c;
        latin1_plain_len[c] = (unsigned char)put_utf8(latin1_plain_utf8[c], 0, plain);
    }
}

/* The one-byte case of fold_spaces_utf8, without a branch per character (a word boundary every
 * few characters made the branchy loop mispredict): each character writes its folded bytes
 * and a pending space whether or not they count, and the length moves by what counts. A
 * character writes at most 2 bytes, a space only before a non-space character whose space
 * characters wrote none: the output stays within 2 bytes a character. */
typedef struct {
    unsigned char b0, b1, len, space;
} KeyBytes;
static KeyBytes latin1_key[2][256]; /* [casefold][code point] */

static void init_latin1_key(void) {
    for (int fold = 0; fold < 2; fold++) {
        for (int c = 0; c < 256; c++) {
            KeyBytes k = {0, 0, 0, space_table[c]};
            if (!k.space) {
                const unsigned char *src = fold ? latin1_fold_utf8[c] : latin1_plain_utf8[c];
                k.b0 = src[0];
                k.len = fold ? latin1_fold_len[c] : latin1_plain_len[c];
                k.b1 = k.len > 1 ? src[1] : 0;
            }
            latin1_key[fold][c] = k;
        }
    }
}

#if defined(__SSE2__)
/* Whether the tables map each printable ASCII character (0x21-0x7E) but the backtick to itself,
 * upper case to lower case where case folds, and the space to a space: checked at import
 * (init_plain_ascii), so that the sixteen-at-a-time steps below write what the tables would
 * (the backtick, an apostrophe, folds to "'": a block holding one takes the per-character
 * way). [casefold] for latin1_key; plain_ascii_utf8 for key_utf8 (which always folds case). */
static int plain_ascii_latin1[2], plain_ascii_utf8;

/* A block of printable ASCII and single spaces (0x20-0x7E but the backtick, no two spaces side
 * by side, not ending with a space) whose keys are its own bytes (case folded where asked), entered with no
 * space pending and, unless something was already written, not starting with a space: what
 * the per-character loops would write for it, one byte a character. ``b``: its bytes;
 * returns 0 (and writes nothing) for any other block. A line of prose is mostly such blocks. */
static inline int plain_block(__m128i b, int casefold, unsigned pending_space, unsigned any, unsigned char *out) {
    const __m128i space = _mm_set1_epi8(' ');
    /* signed: 0x80-0xFF are negative, so only 0x20-0x7F pass the first test, and 0x7F not the second */
    __m128i inside = _mm_and_si128(_mm_cmpgt_epi8(b, _mm_set1_epi8(0x1F)), _mm_cmplt_epi8(b, _mm_set1_epi8(0x7F)));
    unsigned printable = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('`')), inside));
    unsigned spaces = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, space));
    if (printable != 0xFFFFu || (spaces & (spaces >> 1)) || (spaces & 0x8000u) || pending_space || (!any && (spaces & 1u))) return 0;
    if (casefold) {
        __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(b, _mm_set1_epi8('A' - 1)), _mm_cmplt_epi8(b, _mm_set1_epi8('Z' + 1)));
        b = _mm_add_epi8(b, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
    }
    _mm_storeu_si128((__m128i *)out, b);
    return 1;
}
#endif

/* One character of fold_latin1: its pending space and folded bytes written, the length moved by
 * what counts (the per-character step both of its loops take). */
static inline Py_ssize_t latin1_key_step(KeyBytes k, unsigned char *buf, Py_ssize_t len, unsigned *pending_space, unsigned *any) {
    unsigned counts = k.space ^ 1u;
    buf[len] = ' ';
    len += *pending_space & counts;
    buf[len] = k.b0;
    buf[len + 1] = k.b1;
    len += k.len;
    *pending_space = k.space & *any;
    *any |= counts;
    return len;
}

static Py_ssize_t fold_latin1(const Py_UCS1 *p, Py_ssize_t n, int casefold, unsigned char *buf) {
    const KeyBytes *table = latin1_key[casefold != 0];
    Py_ssize_t len = 0, i = 0;
    unsigned pending_space = 0, any = 0;
#if defined(__SSE2__)
    const int plain = plain_ascii_latin1[casefold != 0];
    while (i + 16 <= n) {
        /* sixteen characters in one step where they make a plain block, else one at a time */
        if (plain && plain_block(_mm_loadu_si128((const __m128i *)(p + i)), casefold, pending_space, any, buf + len)) {
            i += 16;
            len += 16;
            any = 1;
            continue;
        }
        for (Py_ssize_t stop = i + 16; i < stop; i++) {
            len = latin1_key_step(table[p[i]], buf, len, &pending_space, &any);
        }
    }
#endif
    for (; i < n; i++) {
        len = latin1_key_step(table[p[i]], buf, len, &pending_space, &any);
    }
    return len;
}

/* For strings of two and four bytes a character, case folding on: what each BMP code point
 * becomes in one load: KEY_SPACE (whitespace), KEY_SKIP (an ignorable character), its single
 * folded code point (apostrophes as '), or FOLD_MANY (folded by fold_cp). The general loop's
 * rules, tabled at import from the same functions. */
#define KEY_SPACE 0xFFFFFFFEu
#define KEY_SKIP 0xFFFFFFFDu
static uint32_t *key_bmp;

/* For two-byte strings, case folding on (the common non-ASCII text), key_bmp once more as one
 * word a code point that the loop copies out whole (KEY_UTF8_LOOP): its folded code point's
 * UTF-8 in the low three bytes, their count in bits 24-25 (0 for whitespace), and flags for
 * whitespace and for what leaves the branch-free case (ignorable, or FOLD_MANY). */
#define KU_SPACE (1u << 26)
#define KU_RARE (1u << 27)
static uint32_t *key_utf8;

static int init_key_table(void) {
    key_bmp = (uint32_t *)malloc(sizeof(uint32_t) * 0x10000);
    key_utf8 = (uint32_t *)malloc(sizeof(uint32_t) * 0x10000);
    if (key_bmp == NULL || key_utf8 == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_UCS4 c = 0; c < 0x10000; c++) {
        if (c < 128 ? _Py_ascii_whitespace[c] != 0 : is_space_cp(c)) key_bmp[c] = KEY_SPACE;
        else if (c >= 128 && is_ignorable(c)) key_bmp[c] = KEY_SKIP;
        else key_bmp[c] = fold_bmp[c];
        uint32_t f = key_bmp[c];
        if (f == KEY_SPACE) {
            key_utf8[c] = KU_SPACE;
        } else if (f == KEY_SKIP || f == FOLD_MANY || f >= 0x10000) {
            key_utf8[c] = KU_RARE;
        } else {
            unsigned char bytes[4] = {0, 0, 0, 0};
            Py_ssize_t n = put_utf8(bytes, 0, f);
            key_utf8[c] = (uint32_t)bytes[0] | ((uint32_t)bytes[1] << 8) | ((uint32_t)bytes[2] << 16) | ((uint32_t)n << 24);
        }
    }
    return 0;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* KEY_LOOP for two-byte strings without a branch per code point, as fold_latin1: each code
 * point writes a pending space and its (up to three) UTF-8 bytes whether or not they count, and
 * the length moves by what counts; ignorable and multi-code-point folds go KEY_LOOP's way.
 * Writes at most 4 bytes past the output's length (the buffer has 12 a code point). */
#define HAVE_KEY_UTF8_LOOP 1
#define SCRATCH_KEEP (16 << 20)
static inline void key_utf8_char(Py_UCS4 c, unsigned char *buf, Py_ssize_t *len_io, unsigned *pending_io, unsigned *any_io) {
    Py_ssize_t len = *len_io;
    unsigned pending_space = *pending_io, any = *any_io;
    uint32_t e = key_utf8[c];
    if (e & KU_RARE) {
        if (key_bmp[c] == KEY_SKIP) return;
        if (pending_space) {
            buf[len++] = ' ';
            pending_space = 0;
        }
        any = 1;
        Py_UCS4 folded[3];
        int n_folded = fold_cp(c, folded);
        for (int k = 0; k < n_folded; k++) len = put_utf8(buf, len, folded[k]);
    } else {
        unsigned space = (e >> 26) & 1u, counts = space ^ 1u;
        buf[len] = ' ';
        len += pending_space & counts;
        memcpy(buf + len, &e, 4);
        len += (e >> 24) & 3u;
        pending_space = space & any;
        any |= counts;
    }
    *len_io = len;
    *pending_io = pending_space;
    *any_io = any;
}

static Py_ssize_t key_utf8_loop(const Py_UCS2 *p, Py_ssize_t n, unsigned char *buf) {
    Py_ssize_t len = 0, i = 0;
    unsigned pending_space = 0, any = 0;
#if defined(__SSE2__)
    while (plain_ascii_utf8 && i + 16 <= n) {
        /* sixteen characters narrowed to bytes (unsigned saturation: a character past 0x7F
         * becomes 0x00 or 0x80-0xFF, which no plain block holds) in one step where they make a
         * plain block, else one at a time */
        __m128i low = _mm_loadu_si128((const __m128i *)(p + i)), high = _mm_loadu_si128((const __m128i *)(p + i + 8));
        if (plain_block(_mm_packus_epi16(low, high), 1, pending_space, any, buf + len)) {
            i += 16;
            len += 16;
            any = 1;
            continue;
        }
        for (Py_ssize_t stop = i + 16; i < stop; i++) key_utf8_char(p[i], buf, &len, &pending_space, &any);
    }
#endif
    for (; i < n; i++) key_utf8_char(p[i], buf, &len, &pending_space, &any);
    return len;
}
#endif

#define KEY_LOOP(TYPE)                                                              \
    do {                                                                            \
        const TYPE *p = (const TYPE *)data;                                         \
        for (Py_ssize_t i = 0; i < n; i++) {                                        \
            Py_UCS4 c = p[i];                                                       \
            uint32_t f = sizeof(TYPE) == 2 || c < 0x10000 ? key_bmp[c] : FOLD_MANY; \
            if (f == KEY_SPACE) {                                                   \
                pending_space = any;                                                \
                continue;                                                           \
            }                                                                       \
            if (f == KEY_SKIP) continue;                                            \
            if (pending_space) {                                                    \
                buf[len++] = ' ';                                                   \
                pending_space = 0;                                                  \
            }                                                                       \
            any = 1;                                                                \
            if (f != FOLD_MANY) {                                                   \
                len = put_utf8(buf, len, f);                                        \
            } else {                                                                \
                Py_UCS4 folded[3];                                                  \
                int n_folded = fold_cp(c, folded);                                  \
                for (int k = 0; k < n_folded; k++) len = put_utf8(buf, len, folded[k]); \
            }                                                                       \
        }                                                                           \
    } while (0)

static PyObject *fold_spaces_utf8(PyObject *self, PyObject *args) {
    PyObject *arg;
    int casefold = 0;
    if (!PyArg_ParseTuple(args, "U|p:fold_spaces_utf8", &arg, &casefold)) return NULL;
#if !HAVE_FOLD
    if (casefold) {
        PyErr_SetString(PyExc_NotImplementedError, "case folding in C needs CPython < 3.13");
        return NULL;
    }
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
#if HAVE_FOLD && defined(HAVE_KEY_UTF8_LOOP)
    if (casefold && kind == PyUnicode_2BYTE_KIND) {
        /* Folded into a scratch buffer kept between calls (the GIL is held), then copied out at
         * its length: no 12-bytes-a-character allocation per text, and a buffer that stays in
         * cache. */
        static unsigned char *scratch = NULL;
        static Py_ssize_t scratch_cap = 0;
        if (n > (PY_SSIZE_T_MAX - 16) / 12) return PyErr_NoMemory();
        if (12 * n + 16 > scratch_cap) {
            Py_ssize_t cap = 12 * n + 16 > 2 * scratch_cap ? 12 * n + 16 : 2 * scratch_cap;
            unsigned char *grown = (unsigned char *)realloc(scratch, (size_t)cap);
            if (grown == NULL) return PyErr_NoMemory();
            scratch = grown;
            scratch_cap = cap;
        }
        Py_ssize_t len = key_utf8_loop((const Py_UCS2 *)data, n, scratch);
        PyObject *key = PyBytes_FromStringAndSize((const char *)scratch, len);
        if (scratch_cap > SCRATCH_KEEP) { /* a very long text's buffer is not kept */
            free(scratch);
            scratch = NULL;
            scratch_cap = 0;
        }
        return key;
    }
#endif
    /* Full case folding turns one code point into at most 3, each at most 4 bytes in UTF-8. */
    /* One-byte strings fold to at most 2 UTF-8 bytes per character (ß → ss, µ → μ). */
    Py_ssize_t per_char = kind == PyUnicode_1BYTE_KIND ? 2 : (casefold ? 12 : 4);
    if (n > (PY_SSIZE_T_MAX - 1) / per_char) return PyErr_NoMemory();
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * per_char + 1);
    if (out == NULL) return NULL;
    unsigned char *buf = (unsigned char *)PyBytes_AS_STRING(out);
    Py_ssize_t len = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        len = fold_latin1((const Py_UCS1 *)data, n, casefold, buf);
        if (_PyBytes_Resize(&out, len) < 0) return NULL;
        return out;
    }
    int pending_space = 0, any = 0;
#if HAVE_FOLD
    if (casefold) { /* one table load per character, one loop per storage kind */
#ifdef HAVE_KEY_UTF8_LOOP
        if (kind == PyUnicode_2BYTE_KIND) len = key_utf8_loop((const Py_UCS2 *)data, n, buf);
        else KEY_LOOP(Py_UCS4);
#else
        if (kind == PyUnicode_2BYTE_KIND) KEY_LOOP(Py_UCS2);
        else KEY_LOOP(Py_UCS4);
#endif
        if (_PyBytes_Resize(&out, len) < 0) return NULL;
        return out;
    }
#endif
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        Py_UCS4 folded[3];
        int n_folded = 1;
        if (c < 128) {
            if (_Py_ascii_whitespace[c]) {
                pending_space = any;
                continue;
            }
            if (casefold && c >= 'A' && c <= 'Z') c += 32;
            folded[0] = c == '`' ? '\'' : c;
        } else if (is_space_cp(c)) {
            pending_space = any;
            continue;
        } else if (is_ignorable(c)) {
            continue;
        } else {
            if (casefold) {
                n_folded = fold_cp(c, folded);
            } else {
                folded[0] = is_apostrophe(c) ? '\'' : c;
            }
        }
        if (pending_space) {
            buf[len++] = ' ';
            pending_space = 0;
        }
        any = 1;
        for (int k = 0; k < n_folded; k++) len = put_utf8(buf, len, folded[k]);
    }
    if (_PyBytes_Resize(&out, len) < 0) return NULL;
    return out;
}

static PyObject *count_words(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "count_words() expects a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), words = 0;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    if (kind == PyUnicode_1BYTE_KIND) {
        /* A word starts where a space is followed by a non-space: no branch per character. */
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        unsigned prev_space = 1;
        Py_ssize_t i = 0;
#if defined(__SSE2__)
        /* Sixteen characters a step (every rejected and every kept text is counted): a bit per
         * whitespace character of a one-byte string (\t..\r, \x1c..\x1f, space, \x85, \xa0:
         * space_table's, which a test compares on all 256), the word starts counted from the bits. */
        const __m128i four = _mm_set1_epi8(4), three = _mm_set1_epi8(3);
        for (; i + 16 <= n; i += 16) {
            __m128i b = _mm_loadu_si128((const __m128i *)(p + i));
            __m128i controls = _mm_sub_epi8(b, _mm_set1_epi8(9)), separators = _mm_sub_epi8(b, _mm_set1_epi8(0x1c));
            __m128i space = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(controls, four), four), _mm_cmpeq_epi8(_mm_max_epu8(separators, three), three));
            space = _mm_or_si128(space, _mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8(0x20)),
                                                     _mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8((char)0x85)), _mm_cmpeq_epi8(b, _mm_set1_epi8((char)0xa0)))));
            unsigned mask = (unsigned)_mm_movemask_epi8(space);
            unsigned starts = ~mask & ((mask << 1) | prev_space) & 0xFFFFu; /* counted without a libgcc call (no popcnt flag) */
            starts -= (starts >> 1) & 0x5555u;
            starts = (starts & 0x3333u) + ((starts >> 2) & 0x3333u);
            starts = (starts + (starts >> 4)) & 0x0F0Fu;
            words += (starts + (starts >> 8)) & 0x1Fu;
            prev_space = (mask >> 15) & 1u;
        }
#endif
        for (; i < n; i++) {
            unsigned space = space_table[p[i]];
            words += prev_space & (space ^ 1u);
            prev_space = space;
        }
        return PyLong_FromSsize_t(words);
    }
    int in_word = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int space = is_space_cp(c);
        if (space) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            words++;
        }
    }
    return PyLong_FromSsize_t(words);
}

static PyObject *utf8_length(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "utf8_length() expects a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), bytes = n;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    if (PyUnicode_IS_ASCII(arg)) return PyLong_FromSsize_t(n);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        bytes += (c >= 0x80) + (c >= 0x800) + (c >= 0x10000);
    }
    return PyLong_FromSsize_t(bytes);
}

/* The control characters the normalize step removes: C0 controls but tab, \n and \r; DEL; a
 * stray BOM (U+FEFF) and the non-character U+FFFE (tamis.steps.normalize._CONTROL_RE). */
static inline int is_stripped_control(Py_UCS4 c) {
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f || c == 0xfeff || c == 0xfffe;
}

/* strip_controls(s): s without those characters; s itself (no copy) when it has none. */
static PyObject *strip_controls(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "strip_controls() expects a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), found = 0;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        for (Py_ssize_t i = 0; i < n; i++) found += p[i] < 0x20 ? (p[i] != '\t' && p[i] != '\n' && p[i] != '\r') : p[i] == 0x7f;
    } else {
        for (Py_ssize_t i = 0; i < n; i++) found += is_stripped_control(PyUnicode_READ(kind, data, i));
    }
    if (!found) return Py_NewRef(arg);
    Py_UCS4 *kept = PyMem_Malloc((size_t)(n - found) * sizeof(Py_UCS4) + 1);
    if (!kept) return PyErr_NoMemory();
    Py_ssize_t len = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (!is_stripped_control(c)) kept[len++] = c;
    }
    PyObject *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, kept, len);
    PyMem_Free(kept);
    return out;
}

/* The normalize step's default (NFC, control characters removed) without a Python pass where
 * it can: set_nfc_unstable(bitmap) hands over tamis.text.nfc_unstable_bitmap (bit c: code point
 * c may change or change a neighbour under NFC; none above its size is trusted), then
 * normalize_quick(s) scans s once and returns
 *   s itself       no control character to remove, and NFC already (no unstable code point:
 *                  UAX #15's quick check says Yes), so nothing changes;
 *   a new str      s without its control characters, s being NFC;
 *   None           s holds a code point NFC may change: the caller normalises it the full way. */
static unsigned char *nfc_unstable;
static Py_ssize_t nfc_unstable_limit;

static inline int is_nfc_unstable(Py_UCS4 c) {
    return (Py_ssize_t)c >= nfc_unstable_limit || ((nfc_unstable[c >> 3] >> (c & 7)) & 1);
}

/* For two-byte strings: one byte per BMP code point, QUICK_STRIP for a control character the
 * step removes, QUICK_UNSTABLE for one NFC may change (filled by set_nfc_unstable), so the
 * check is one load and no branch per code point. */
#define QUICK_STRIP 1
#define QUICK_UNSTABLE 2
static unsigned char quick_class[0x10000];

static PyObject *set_nfc_unstable(PyObject *self, PyObject *arg) {
    Py_buffer buf;
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0) return NULL;
    unsigned char *bits = PyMem_Malloc(buf.len ? (size_t)buf.len : 1);
    if (!bits) {
        PyBuffer_Release(&buf);
        return PyErr_NoMemory();
    }
    memcpy(bits, buf.buf, (size_t)buf.len);
    PyMem_Free(nfc_unstable);
    nfc_unstable = bits;
    nfc_unstable_limit = buf.len * 8;
    PyBuffer_Release(&buf);
    for (Py_UCS4 c = 0; c < 0x10000; c++)
        quick_class[c] = (unsigned char)((is_stripped_control(c) ? QUICK_STRIP : 0) | (c >= 0x80 && is_nfc_unstable(c) ? QUICK_UNSTABLE : 0));
    Py_RETURN_NONE;
}

static PyObject *normalize_quick(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "normalize_quick() expects a str");
        return NULL;
    }
    if (nfc_unstable == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "normalize_quick() needs set_nfc_unstable() first");
        return NULL;
    }
    if (PyUnicode_IS_ASCII(arg)) return strip_controls(self, arg); /* ASCII is NFC */
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), found = 0;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        int unstable = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS1 c = p[i];
            found += c < 0x20 ? (c != '\t' && c != '\n' && c != '\r') : c == 0x7f;
            unstable |= c >= 0x80 && is_nfc_unstable(c);
        }
        if (unstable) Py_RETURN_NONE;
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *p = (const Py_UCS2 *)data;
        unsigned seen = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            unsigned cls = quick_class[p[i]];
            found += cls & QUICK_STRIP;
            seen |= cls;
        }
        if (seen & QUICK_UNSTABLE) Py_RETURN_NONE;
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c >= 0x80 && is_nfc_unstable(c)) Py_RETURN_NONE;
            found += is_stripped_control(c);
        }
    }
    if (!found) return Py_NewRef(arg);
    return strip_controls(self, arg);
}


#if HAVE_FOLD
/* The comparison key of text[start:start+n] (fold_spaces_utf8(text[start:start+n], True)) into
 * ``buf`` (12 bytes a character + 16): its length. */
static Py_ssize_t key_of_span(int kind, const void *text_data, Py_ssize_t start, Py_ssize_t n, unsigned char *buf) {
    Py_ssize_t len = 0;
    if (kind == PyUnicode_1BYTE_KIND) return fold_latin1((const Py_UCS1 *)text_data + start, n, 1, buf);
#ifdef HAVE_KEY_UTF8_LOOP
    if (kind == PyUnicode_2BYTE_KIND) return key_utf8_loop((const Py_UCS2 *)text_data + start, n, buf);
#endif
    int pending_space = 0, any = 0;
    if (kind == PyUnicode_2BYTE_KIND) {
        const void *data = (const Py_UCS2 *)text_data + start;
        KEY_LOOP(Py_UCS2);
    } else {
        const void *data = (const Py_UCS4 *)text_data + start;
        KEY_LOOP(Py_UCS4);
    }
    return len;
}

/* tamis.dedup.shingles.line_length of a key given as UTF-8: its code points, each Chinese or
 * Japanese one (the ranges of shingles._han_kana) counting 3. */
static Py_ssize_t key_line_length(const unsigned char *key, Py_ssize_t len) {
    Py_ssize_t chars = 0, han_kana = 0;
    for (Py_ssize_t i = 0; i < len;) {
        unsigned char b = key[i];
        Py_UCS4 c;
        if (b < 0x80) { i += 1; chars++; continue; }
        if (b < 0xE0) { c = ((Py_UCS4)(b & 0x1F) << 6) | (key[i + 1] & 0x3F); i += 2; }
        else if (b < 0xF0) { c = ((Py_UCS4)(b & 0x0F) << 12) | ((Py_UCS4)(key[i + 1] & 0x3F) << 6) | (key[i + 2] & 0x3F); i += 3; }
        else { c = ((Py_UCS4)(b & 0x07) << 18) | ((Py_UCS4)(key[i + 1] & 0x3F) << 12) | ((Py_UCS4)(key[i + 2] & 0x3F) << 6) | (key[i + 3] & 0x3F); i += 4; }
        chars++;
        han_kana += (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) || (c >= 0x3400 && c <= 0x4DBF) ||
                    (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF66 && c <= 0xFF9F) ||
                    (c >= 0x20000 && c <= 0x3134F);
    }
    return chars + 2 * han_kana;
}

typedef struct {
    uint64_t hash;
    Py_ssize_t offset, len; /* in the key arena; len -1: an empty slot */
} SeenKey;

typedef struct {
    unsigned char *arena;
    Py_ssize_t used, cap;
    SeenKey *slots;
    Py_ssize_t mask, count;
} KeySet;

/* The vendored XXH3 (jsonl.c's key hash; a byte-a-multiply FNV-1a was the repair's costliest
 * loop): only where keys land in the table, never which lines are equal (keyset_add compares
 * the bytes). */
static uint64_t key_hash(const unsigned char *key, Py_ssize_t len) {
    return XXH3_64bits(key, (size_t)len);
}

/* Adds the key (at the arena's end, ``len`` bytes) unless present: 1 if it was already there,
 * 0 if added, -1 on memory error. The table has room for every line (sized at the start). */
static int keyset_add(KeySet *set, Py_ssize_t len) {
    const unsigned char *key = set->arena + set->used;
    uint64_t h = key_hash(key, len);
    for (Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)set->mask);; i = (i + 1) & set->mask) {
        SeenKey *slot = set->slots + i;
        if (slot->len < 0) {
            slot->hash = h;
            slot->offset = set->used;
            slot->len = len;
            set->used += len;
            set->count++;
            return 0;
        }
        if (slot->hash == h && slot->len == len && memcmp(set->arena + slot->offset, key, (size_t)len) == 0) return 1;
    }
}

/* Appends text[start:end] to the kept spans (joined with the previous span when they touch). */
static int keep_span(Py_ssize_t **spans, Py_ssize_t *n_spans, Py_ssize_t *cap, Py_ssize_t start, Py_ssize_t end) {
    if (start >= end) return 0;
    if (*n_spans && (*spans)[2 * *n_spans - 1] == start) {
        (*spans)[2 * *n_spans - 1] = end;
        return 0;
    }
    if (*n_spans == *cap) {
        Py_ssize_t grown = *cap ? 2 * *cap : 64;
        Py_ssize_t *bigger = (Py_ssize_t *)PyMem_Realloc(*spans, sizeof(Py_ssize_t) * 2 * (size_t)grown);
        if (bigger == NULL) return -1;
        *spans = bigger;
        *cap = grown;
    }
    (*spans)[2 * *n_spans] = start;
    (*spans)[2 * *n_spans + 1] = end;
    ++*n_spans;
    return 0;
}

static PyObject *repair_lines(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t min_chars;
    int check_nfc = 0;
    if (!PyArg_ParseTuple(args, "Un|p:repair_lines", &text, &min_chars, &check_nfc)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (check_nfc && nfc_unstable == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "repair_lines(check_nfc=True) needs set_nfc_unstable() first");
        return NULL;
    }
    if (n == 0) return Py_BuildValue("(OnN)", text, (Py_ssize_t)0, PyBool_FromLong(0));
    /* Every line's key fits in 12 bytes a character + 16 (the fold loops' slack): the arena
     * holds all the distinct keys of the text, so it is sized once. With check_nfc, the same
     * pass looks for a code point NFC may change (normalize_quick's test): a text without one
     * is NFC, one with one is left to the caller (None), which checks it the full way. */
    Py_ssize_t lines = 1, returns = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        int unstable = 0;
        Py_ssize_t i = 0;
#if defined(__SSE2__)
        /* sixteen characters a step: per-byte counters (at most 255 steps between two sums) */
        const __m128i newline = _mm_set1_epi8('\n'), carriage = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
        __m128i high = zero;
        while (i + 16 <= n) {
            __m128i ln = zero, cr = zero;
            for (int step = 0; step < 255 && i + 16 <= n; step++, i += 16) {
                __m128i b = _mm_loadu_si128((const __m128i *)(p + i));
                ln = _mm_sub_epi8(ln, _mm_cmpeq_epi8(b, newline));
                cr = _mm_sub_epi8(cr, _mm_cmpeq_epi8(b, carriage));
                high = _mm_or_si128(high, b);
            }
            __m128i sums = _mm_add_epi64(_mm_sad_epu8(ln, zero), _mm_slli_epi64(_mm_sad_epu8(cr, zero), 32));
            uint64_t both[2];
            _mm_storeu_si128((__m128i *)both, sums);
            lines += (Py_ssize_t)((both[0] & 0xFFFFFFFFu) + (both[1] & 0xFFFFFFFFu));
            returns += (Py_ssize_t)((both[0] >> 32) + (both[1] >> 32));
        }
        unstable = _mm_movemask_epi8(high) != 0;
#endif
        for (; i < n; i++) {
            Py_UCS1 c = p[i];
            lines += c == '\n';
            returns += c == '\r';
            unstable |= c >= 0x80;
        }
        lines += returns;
        if (unstable && check_nfc) {
            for (Py_ssize_t i = 0; i < n; i++)
                if (p[i] >= 0x80 && is_nfc_unstable(p[i])) Py_RETURN_NONE;
        }
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *p = (const Py_UCS2 *)data;
        unsigned seen = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS2 c = p[i];
            lines += c == '\n' || c == '\r';
            seen |= quick_class[c];
        }
        if ((seen & QUICK_UNSTABLE) && check_nfc) Py_RETURN_NONE;
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            lines += c == '\n' || c == '\r';
            if (check_nfc && c >= 0x80 && is_nfc_unstable(c)) Py_RETURN_NONE;
        }
    }
    Py_ssize_t table = 16;
    while (table < 2 * lines) table *= 2;
    KeySet set = {NULL, 0, 12 * n + 16 * (lines + 1), NULL, table - 1, 0};
    Py_ssize_t *spans = NULL, n_spans = 0, spans_cap = 0;
    PyObject *result = NULL;
    set.arena = (unsigned char *)PyMem_Malloc((size_t)set.cap);
    set.slots = (SeenKey *)PyMem_Malloc(sizeof(SeenKey) * (size_t)table);
    if (set.arena == NULL || set.slots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < table; i++) set.slots[i].len = -1;
    Py_ssize_t removed = 0, non_blank = 0;
    Py_ssize_t pending_start = -1, pending_end = -1; /* blank lines waiting (always one run of lines) */
    Py_ssize_t pos = 0;
    /* a one-byte text without "\r" (most): each line's end found by memchr */
    const char *newlines = kind == PyUnicode_1BYTE_KIND && returns == 0 ? (const char *)data : NULL;
    while (pos < n) {
        Py_ssize_t end = pos;
        if (newlines) {
            const char *at = memchr(newlines + pos, '\n', (size_t)(n - pos));
            end = at ? at - newlines : n;
        } else {
            while (end < n) {
                Py_UCS4 c = PyUnicode_READ(kind, data, end);
                if (c == '\n' || c == '\r') break;
                end++;
            }
        }
        Py_ssize_t next = end;
        if (next < n) {
            next += PyUnicode_READ(kind, data, next) == '\r' && next + 1 < n && PyUnicode_READ(kind, data, next + 1) == '\n' ? 2 : 1;
        }
        Py_ssize_t key_len = key_of_span(kind, data, pos, end - pos, set.arena + set.used);
        if (key_len == 0) {
            if (pending_start < 0) pending_start = pos;
            pending_end = next;
        } else {
            non_blank++;
            int seen = keyset_add(&set, key_len);
            /* a repeated key is the arena's last bytes, never kept: read it there */
            if (seen && key_line_length(set.arena + set.used, key_len) >= min_chars) {
                removed++;
                pending_start = pending_end = -1; /* a removal follows a kept line: the blanks go */
            } else {
                if (pending_start >= 0 && keep_span(&spans, &n_spans, &spans_cap, pending_start, pending_end) < 0) goto nomem;
                pending_start = pending_end = -1;
                if (keep_span(&spans, &n_spans, &spans_cap, pos, next) < 0) goto nomem;
            }
        }
        pos = next;
    }
    if (pending_start >= 0 && keep_span(&spans, &n_spans, &spans_cap, pending_start, pending_end) < 0) goto nomem;
    int all_identical = non_blank >= 2 && set.count == 1;
    if (!removed) {
        result = Py_BuildValue("(OnN)", text, (Py_ssize_t)0, PyBool_FromLong(all_identical));
        goto done;
    }
    Py_ssize_t last = n_spans ? spans[2 * n_spans - 1] : 0;
    Py_UCS4 final = PyUnicode_READ(kind, data, n - 1);
    if (final != '\n' && final != '\r') { /* the text had no final line end: the repair gets none */
        while (n_spans) {
            Py_ssize_t first = spans[2 * n_spans - 2];
            while (last > first) {
                Py_UCS4 c = PyUnicode_READ(kind, data, last - 1);
                if (c != '\n' && c != '\r') break;
                last--;
            }
            if (last > first) break;
            n_spans--;
            last = n_spans ? spans[2 * n_spans - 1] : 0;
        }
        if (n_spans) spans[2 * n_spans - 1] = last;
    }
    PyObject *pieces = PyList_New(n_spans);
    if (pieces == NULL) goto done;
    for (Py_ssize_t k = 0; k < n_spans; k++) {
        PyObject *piece = PyUnicode_Substring(text, spans[2 * k], spans[2 * k + 1]);
        if (piece == NULL) {
            Py_DECREF(pieces);
            goto done;
        }
        PyList_SET_ITEM(pieces, k, piece);
    }
    PyObject *empty = PyUnicode_New(0, 0);
    PyObject *joined = empty ? PyUnicode_Join(empty, pieces) : NULL;
    Py_XDECREF(empty);
    Py_DECREF(pieces);
    if (joined != NULL) {
        result = Py_BuildValue("(NnN)", joined, removed, PyBool_FromLong(all_identical));
    }
    goto done;
nomem:
    PyErr_NoMemory();
done:
    PyMem_Free(set.arena);
    PyMem_Free(set.slots);
    PyMem_Free(spans);
    return result;
}
#endif

/* mojibake_mark(s): whether s holds a character that starts a UTF-8 sequence read as Latin-1
 * (U+00C2-U+00F4) directly followed by one that continues it (U+0080-U+00BF, or one of the
 * windows-1252 signs at 0x80-0x9F): tamis.text._MOJIBAKE_MARK's test in one scan, the regular
 * expression its plain-Python reference (has_mojibake_mark_reference). */
static inline int is_mojibake_lead(Py_UCS4 c) { return c >= 0xC2 && c <= 0xF4; }

static inline int is_mojibake_continuation(Py_UCS4 c) {
    if (c >= 0x80 && c <= 0xBF) return 1;
    switch (c) {
    case 0x0152: case 0x0153: case 0x0160: case 0x0161: case 0x0178: case 0x017D: case 0x017E: case 0x0192:
    case 0x02C6: case 0x02DC: case 0x2013: case 0x2014: case 0x2018: case 0x2019: case 0x201A: case 0x201C:
    case 0x201D: case 0x201E: case 0x2020: case 0x2021: case 0x2022: case 0x2026: case 0x2030: case 0x2039:
    case 0x203A: case 0x20AC: case 0x2122:
        return 1;
    default:
        return 0;
    }
}

static PyObject *mojibake_mark(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "mojibake_mark() expects a str");
        return NULL;
    }
    if (PyUnicode_IS_ASCII(arg)) Py_RETURN_FALSE;
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    if (kind == PyUnicode_1BYTE_KIND) {
        /* only U+0080-U+00BF can continue here (the windows-1252 signs lie above U+00FF) */
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        for (Py_ssize_t i = 1; i < n; i++)
            if (p[i] >= 0x80 && p[i] <= 0xBF && p[i - 1] >= 0xC2 && p[i - 1] <= 0xF4) Py_RETURN_TRUE;
        Py_RETURN_FALSE;
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0x80 && is_mojibake_lead(PyUnicode_READ(kind, data, i - 1)) && is_mojibake_continuation(c)) Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
    {"set_nfc_unstable", set_nfc_unstable, METH_O, "Hand over the bitmap of code points NFC may change (tamis.text.nfc_unstable_bitmap)."},
    {"normalize_quick", normalize_quick, METH_O, "s NFC-stable: s without its control characters (s itself when none); else None."},
    {"strip_controls", strip_controls, METH_O, "s without the control characters the normalize step removes (s itself when none)."},
    {"mojibake_mark", mojibake_mark, METH_O, "Whether s holds U+00C2-U+00F4 directly followed by a UTF-8 continuation read as windows-1252."},
    {"utf8_length", utf8_length, METH_O, "Bytes of s in UTF-8 (surrogates count 3), without encoding."},
    {"fold_spaces_utf8", fold_spaces_utf8, METH_VARARGS, "UTF-8 of s with whitespace runs collapsed and apostrophes folded (and case folded)."},
    {"count_words", count_words, METH_O, "len(s.split()) without building the list."},
#if HAVE_FOLD
    {"repair_lines", repair_lines, METH_VARARGS,
     "repair_repetition(s, min_chars) of a text in NFC: (text, removed, all identical); with check_nfc, None for a text that may not be NFC."},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_text", "Compiled text primitives.", -1, methods};

#if defined(__SSE2__)
static void init_plain_ascii(void) {
    for (int fold = 0; fold < 2; fold++) {
        int plain = latin1_key[fold][' '].space == 1;
        for (int c = 0x21; c < 0x7F; c++) {
            if (c == '`') continue;
            int want = fold && c >= 'A' && c <= 'Z' ? c + 32 : c;
            const KeyBytes *k = &latin1_key[fold][c];
            plain &= k->space == 0 && k->len == 1 && k->b0 == want;
        }
        plain_ascii_latin1[fold] = plain;
    }
#ifdef HAVE_KEY_UTF8_LOOP
    int plain = key_utf8[' '] == KU_SPACE;
    for (uint32_t c = 0x21; c < 0x7F; c++) plain &= c == '`' || key_utf8[c] == ((c >= 'A' && c <= 'Z' ? c + 32 : c) | (1u << 24));
    plain_ascii_utf8 = plain;
#endif
}
#endif

PyMODINIT_FUNC PyInit__text(void) {
    if (init_unicode_core() < 0) return NULL;
    if (init_key_table() < 0) return NULL;
    init_latin1_fold();
    init_latin1_key();
#if defined(__SSE2__)
    init_plain_ascii();
#endif
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && add_unicode_core_capsule(m) < 0) Py_CLEAR(m);
    return m;
}
