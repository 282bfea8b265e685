/* A compiled reader for the common JSONL record: validates the line, finds the text and id
 * fields, and measures (and optionally normalises) the text without building Python objects
 * for it. The plain-Python path (orjson, tamis.io.readers, tamis.text.normalized_utf8) is the
 * reference; tests/test_native_jsonl.py checks both agree.
 *
 *   scan_record(line, text_field, id_field, max_bytes, fold[, path_json, line_no, reserved])
 *       -> (id, key, chars, utf8_bytes, words, text_start, text_end, textless) or None
 *
 * ``None`` means "not the common case, ask the reference": anything the scanner is not sure
 * to read exactly as orjson would (invalid JSON or UTF-8, escaped keys, a repeated text or id
 * key, lone surrogates, numbers orjson may refuse, a non-string text, an id that is neither a
 * plain string nor a small integer, an empty or over-sized text, and, when folding, a code
 * point that could change under NFC). A caller that gets ``None`` parses the line the
 * ordinary way, so ``None`` is always safe and a tuple is always exact:
 *   id          the id as str, or None when absent, null or "" (the reader derives one);
 *   key         with fold: normalised_utf8(text) (NFC, case folded, apostrophes, spaces);
 *               without: None;
 *   chars       len(text); utf8_bytes: len(text.encode()); words: len(text.split());
 *   text_start, text_end
 *               the byte span of the text value in the line, quotes included, so a caller
 *               can replace it (e.g. by null) and parse the small rest;
 *   textless    with path_json (the JSON of the file's path) and line_no: the line the
 *               writer writes for this record with its text dropped, byte for byte what
 *               orjson.dumps({"id", "text": None, "metadata"}) gives, when the record is
 *               written as orjson writes (compact, integers, orjson's escapes, no repeated
 *               key) or differs from that only in whitespace between tokens and the form of
 *               string escapes (then written again as orjson writes them, put_canonical),
 *               and has none of the NUL-separated ``reserved`` keys; else None.
 *
 *   scan_block(buffer, start, limit, first_line, text_field, id_field, max_bytes, fold, path_json, reserved[, with_text, digest, joined])
 *       frames the lines of a block as the reader does and scans each: no Python between
 *       lines at all (see the function for what it returns); with_text gives each record's
 *       whole output line (text included, its bytes copied or, where only its escapes differ
 *       from orjson's, written again), so a pass that keeps it writes no parsed record;
 *       digest (with fold) gives, instead of the keys, one bytes of 16 per line: the
 *       xxh3-128 digest of each key (zeros for a declined line), no key built at all;
 *       joined gives the output lines end to end in one bytes instead of a bytes each.
 *
 *   block_texts(buffer, numbers) -> [str | None]
 *       the text of each line scan_block scanned, as orjson.loads would give it (None where
 *       the scanner declined the line): ids and texts of a block with no Python per record.
 *
 *   count_newlines(buffer) -> int
 *       bytes.count(b"\n") without its byte-at-a-time loop (planning reads every large file once).
 *
 *   set_nfc_unsafe(bitmap)
 *       the code points below 8 * len(bitmap) that are not NFC-stable on their own (canonical
 *       combining class != 0, NFC_QC No or Maybe), computed from unicodedata by tamis.text.
 *       Code points above the bitmap, or every one >= U+0300 before it is set, count as unsafe.
 */
#include "unicode_core.h"

#include <string.h>
/* xxHash 0.8.3 (BSD-2-Clause, vendored whole, as Arrow vendors it): scan_block's digests are
 * python-xxhash's xxh3_128_digest of each folded key, which the two-pass collect writes. */
#define XXH_INLINE_ALL
#include "xxhash.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_DEPTH 128
#define MAX_NUMBER_CHARS 40

static unsigned char *nfc_unsafe;
static Py_ssize_t nfc_limit;

/* One lookup per BMP code point in the folding loop: its single folded code point (or
 * INFO_MANY), whether it is a space, whether NFC may change it. */
#define INFO_CP 0x1FFFFFu
#define INFO_MANY 0x1FFFFFu
#define INFO_SPACE (1u << 24)
#define INFO_UNSAFE (1u << 25)
static uint32_t *bmp_info;

static int init_bmp_info(void) {
    bmp_info = (uint32_t *)malloc(sizeof(uint32_t) * 0x10000);
    if (bmp_info == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_UCS4 c = 0; c < 0x10000; c++) {
        uint32_t f = fold_bmp[c];
        uint32_t info = f == FOLD_MANY ? INFO_MANY : f;
        if (is_space_cp(c)) info |= INFO_SPACE;
        if (c >= 0x300) info |= INFO_UNSAFE; /* until set_nfc_unsafe says otherwise */
        if (is_ignorable(c)) info |= INFO_UNSAFE; /* dropped from the key: left to the reference */
        bmp_info[c] = info;
    }
    return 0;
}

static inline int cp_nfc_unsafe(Py_UCS4 c) {
    if (c < 0x300) return 0;
    if ((Py_ssize_t)c >= nfc_limit) return 1;
    return (nfc_unsafe[c >> 3] >> (c & 7)) & 1;
}

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    /* Still true when every byte skipped so far is as orjson.dumps writes it: no space
     * between tokens, escapes only in orjson's forms, integers only, no repeated keys.
     * Such bytes can be copied into an output line instead of parsed and written again. */
    int canonical;
    /* Still true when put_canonical can write every byte skipped so far as orjson.dumps
     * would: what only whitespace between tokens or the form of string escapes keeps from
     * being canonical. Numbers orjson writes otherwise (floats, long integers, -0), repeated
     * keys and escaped keys in nested objects clear it. */
    int fixable;
} Cursor;

#define MAX_KEYS 32

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as orjson and
 * Python's decoder read it; returns the sequence length, 0 when invalid. */
static inline int decode_utf8(const unsigned char *p, const unsigned char *end, Py_UCS4 *cp) {
    unsigned char c = p[0];
    if (c < 0xC2) return 0;
    if (c < 0xE0) {
        if (end - p < 2 || (p[1] & 0xC0) != 0x80) return 0;
        *cp = ((Py_UCS4)(c & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        Py_UCS4 v = ((Py_UCS4)(c & 0x0F) << 12) | ((Py_UCS4)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        if (v < 0x800 || (v >= 0xD800 && v < 0xE000)) return 0;
        *cp = v;
        return 3;
    }
    if (c < 0xF5) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        Py_UCS4 v = ((Py_UCS4)(c & 0x07) << 18) | ((Py_UCS4)(p[1] & 0x3F) << 12) | ((Py_UCS4)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        if (v < 0x10000 || v > 0x10FFFF) return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

static inline int hex4(const unsigned char *p, Py_UCS4 *out) {
    Py_UCS4 v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (Py_UCS4)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (Py_UCS4)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (Py_UCS4)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

/* One escape after the backslash at p; returns the bytes it takes (0: refuse) and its code
 * point. A surrogate pair is one escape; a lone surrogate is refused. */
static inline int decode_escape(const unsigned char *p, const unsigned char *end, Py_UCS4 *cp) {
    if (end - p < 2) return 0;
    switch (p[1]) {
    case '"': *cp = '"'; return 2;
    case '\\': *cp = '\\'; return 2;
    case '/': *cp = '/'; return 2;
    case 'b': *cp = 0x08; return 2;
    case 'f': *cp = 0x0C; return 2;
    case 'n': *cp = 0x0A; return 2;
    case 'r': *cp = 0x0D; return 2;
    case 't': *cp = 0x09; return 2;
    case 'u': break;
    default: return 0;
    }
    Py_UCS4 hi;
    if (end - p < 6 || !hex4(p + 2, &hi)) return 0;
    if (hi < 0xD800 || hi >= 0xE000) {
        *cp = hi;
        return 6;
    }
    if (hi >= 0xDC00) return 0;
    Py_UCS4 lo;
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, &lo) || lo < 0xDC00 || lo >= 0xE000) return 0;
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 12;
}

static inline void skip_ws(Cursor *s) {
    const unsigned char *start = s->p;
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
    if (s->p != start) s->canonical = 0;
}

static inline int is_lower_hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* Whether the escape at p is written as orjson writes it: the two-character forms for
 * " \ \b \f \n \r \t, \u00xx (lower case) for the other control characters, nothing else. */
static inline int canonical_escape(const unsigned char *p) {
    switch (p[1]) {
    case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't': return 1;
    case 'u': {
        if (p[2] != '0' || p[3] != '0' || (p[4] != '0' && p[4] != '1') || !is_lower_hex(p[5])) return 0;
        int v = (p[4] - '0') * 16 + (p[5] <= '9' ? p[5] - '0' : p[5] - 'a' + 10);
        return v != 0x08 && v != 0x09 && v != 0x0A && v != 0x0C && v != 0x0D;
    }
    default: return 0;
    }
}

/* A string at s->p (its opening quote): checked and skipped. *escaped tells whether it had
 * any escape. Returns 0, or -1 to refuse. */
static int skip_string(Cursor *s, int *escaped) {
    const unsigned char *p = s->p + 1, *end = s->end;
    *escaped = 0;
    while (p < end) {
        unsigned char c = *p;
        if (c == '"') {
            s->p = p + 1;
            return 0;
        }
        if (c == '\\') {
            Py_UCS4 cp;
            int n = decode_escape(p, end, &cp);
            if (!n) return -1;
            if (!canonical_escape(p)) s->canonical = 0;
            *escaped = 1;
            p += n;
        } else if (c < 0x20) {
            return -1;
        } else if (c < 0x80) {
            p++;
        } else {
            Py_UCS4 cp;
            int n = decode_utf8(p, end, &cp);
            if (!n) return -1;
            p += n;
        }
    }
    return -1;
}

/* A JSON number; refuses the ones orjson may not read as written (overflowing exponents,
 * very long literals). *integer tells whether it had neither fraction nor exponent. */
static int skip_number(Cursor *s, int *integer) {
    const unsigned char *start = s->p, *p = s->p, *end = s->end;
    *integer = 1;
    if (p < end && *p == '-') p++;
    if (p >= end) return -1;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') p++;
    } else {
        return -1;
    }
    if (p < end && *p == '.') {
        *integer = 0;
        p++;
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *integer = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const unsigned char *digits = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == digits || p - digits > 2) return -1;
    }
    if (p - start > MAX_NUMBER_CHARS) return -1;
    /* orjson writes back the same digits for integers that fit 64 bits, not "-0", and
     * floats in its own shortest form: only the first kind is copied as it is. */
    if (!*integer || p - start > 18 || (start[0] == '-' && start[1] == '0')) s->canonical = s->fixable = 0;
    s->p = p;
    return 0;
}

typedef struct {
    const unsigned char *at;
    Py_ssize_t len;
} Span;

/* Records key k among the n keys of an object seen so far; a repeated key (orjson keeps
 * the last) or too many to compare make the object not canonical. */
static inline void note_key(Cursor *s, Span *keys, int *n, const unsigned char *k, Py_ssize_t len) {
    if (!s->canonical && !s->fixable) return;
    if (*n >= MAX_KEYS) {
        s->canonical = s->fixable = 0;
        return;
    }
    for (int i = 0; i < *n; i++) {
        if (keys[i].len == len && memcmp(keys[i].at, k, (size_t)len) == 0) {
            s->canonical = s->fixable = 0;
            return;
        }
    }
    keys[*n].at = k;
    keys[*n].len = len;
    (*n)++;
}

static int skip_value(Cursor *s, int depth);

static int skip_literal(Cursor *s, const char *word, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return -1;
    s->p += n;
    return 0;
}

/* After a member of an object or an element of an array: 1 when a ',' opens the next one,
 * 0 when ``close`` ends the container (consumed), -1 for anything else. */
static int after_member(Cursor *s, unsigned char close) {
    skip_ws(s);
    if (s->p >= s->end) return -1;
    if (*s->p == ',') {
        s->p++;
        skip_ws(s);
        return 1;
    }
    if (*s->p == close) {
        s->p++;
        return 0;
    }
    return -1;
}

static int skip_container(Cursor *s, int depth, unsigned char close) {
    if (depth > MAX_DEPTH) return -1;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    Span keys[MAX_KEYS];
    int n_keys = 0;
    for (;;) {
        if (close == '}') {
            int escaped;
            const unsigned char *k = s->p + 1;
            if (s->p >= s->end || *s->p != '"' || skip_string(s, &escaped) < 0) return -1;
            if (escaped) s->fixable = 0; /* two spellings of one key would not compare equal */
            note_key(s, keys, &n_keys, k, (s->p - 1) - k);
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':') return -1;
            s->p++;
            skip_ws(s);
        }
        if (skip_value(s, depth + 1) < 0) return -1;
        int next = after_member(s, close);
        if (next <= 0) return next;
    }
}

static int skip_value(Cursor *s, int depth) {
    if (s->p >= s->end) return -1;
    int flag;
    switch (*s->p) {
    case '"': return skip_string(s, &flag);
    case '{': return skip_container(s, depth, '}');
    case '[': return skip_container(s, depth, ']');
    case 't': return skip_literal(s, "true", 4);
    case 'f': return skip_literal(s, "false", 5);
    case 'n': return skip_literal(s, "null", 4);
    default: return skip_number(s, &flag);
    }
}

typedef struct {
    Py_ssize_t chars, bytes, words;
    unsigned char *out; /* folded UTF-8, or NULL when not folding */
    Py_ssize_t out_len;
    int canonical; /* every escape in orjson's form: the value's bytes are what orjson writes */
} TextScan;

/* Bytes that stand for themselves inside a JSON string and need no decoding: printable
 * ASCII (the space included) other than the quote and the backslash. The NUL after every
 * bytes object's data is not one of them, so runs of them stop at the end of the line. */
static unsigned char simple_ascii[256];
static unsigned char ascii_fold[128];

static void init_ascii_tables(void) {
    for (int c = 0; c < 256; c++) simple_ascii[c] = c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
    for (int c = 0; c < 128; c++) ascii_fold[c] = (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : (c == '`' ? '\'' : c));
}

/* The end of the run of simple bytes that starts at p (16 bytes at a time where SSE2 is). */
#ifdef __SSE2__
/* One bit per byte of v that is not simple: the quote, the backslash, a control character
 * (<= 0x1F), DEL or any byte of a multibyte sequence (>= 0x7F). */
static inline unsigned stop_bits(__m128i v) {
    __m128i stop = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    stop = _mm_or_si128(stop, _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v));
    stop = _mm_or_si128(stop, _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x7F)), v));
    return (unsigned)_mm_movemask_epi8(stop);
}
#endif

static inline const unsigned char *simple_run_end(const unsigned char *p, const unsigned char *end) {
#ifdef __SSE2__
    while (end - p >= 16) {
        unsigned mask = stop_bits(_mm_loadu_si128((const __m128i *)p));
        if (mask) return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (simple_ascii[*p]) p++;
    return p;
}

/* Measures (and folds into out + *len) the simple bytes [a, b). Loops without branches
 * that the compiler vectorises; spaces are collapsed by a serial loop only in the rare run
 * that has two in a row or starts with one after a space. */
static inline void scan_simple_run(const unsigned char *a, const unsigned char *b, unsigned char *out, Py_ssize_t *len, Py_ssize_t *words,
                                   unsigned *prev_space) {
    Py_ssize_t n = b - a, starts = *prev_space && a[0] != ' ', doubles = 0;
    for (Py_ssize_t i = 1; i < n; i++) {
        starts += (a[i - 1] == ' ') & (a[i] != ' ');
        doubles += (a[i - 1] == ' ') & (a[i] == ' ');
    }
    *words += starts;
    if (out != NULL) {
        unsigned char *o = out + *len;
        if (doubles == 0 && !(*prev_space && a[0] == ' ')) {
            for (Py_ssize_t i = 0; i < n; i++) {
                unsigned char c = a[i];
                unsigned char lower = (unsigned char)(c | (((unsigned char)(c - 'A') < 26) << 5));
                o[i] = c == '`' ? '\'' : lower;
            }
            *len += n;
        } else {
            unsigned prev = *prev_space;
            Py_ssize_t k = 0;
            for (Py_ssize_t i = 0; i < n; i++) {
                unsigned space = a[i] == ' ';
                o[k] = ascii_fold[a[i]];
                k += !(space & prev);
                prev = space;
            }
            *len += k;
        }
    }
    *prev_space = a[n - 1] == ' ';
}

/* Set bits of a 16-bit mask, inline: built for any x86-64, __builtin_popcount is a call into
 * libgcc (no POPCNT instruction assumed), once per 16 bytes of every text. */
static inline unsigned popcount16(unsigned x) {
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0F0Fu;
    return (x + (x >> 8)) & 0x1Fu;
}

/* Simple bytes with no two spaces in a row, measured and folded 16 at a time (SSE2): word
 * starts counted from the space mask, upper case and backquotes folded with compares and
 * blends, the chunk stored as it is. The chunk that holds the first stop byte or double space
 * is taken up to it (its prefix's bits only; the whole chunk is stored, the length advanced
 * by the prefix), so the run loop below sees at most the tail of a line: in prose a stop byte
 * (an accent, an escape) comes every few dozen bytes, and the scalar loops had taken a third
 * of the scan. Returns how many bytes it took. Out always has 16 bytes of room past any
 * write. */
static inline Py_ssize_t simple_chunks(const unsigned char *p, const unsigned char *end, unsigned char *out, Py_ssize_t *len, Py_ssize_t *words,
                                       unsigned *prev_space) {
    Py_ssize_t taken = 0;
#ifdef __SSE2__
    const __m128i space = _mm_set1_epi8(' ');
    const __m128i below_a = _mm_set1_epi8('A' - 1), above_z = _mm_set1_epi8('Z' + 1), case_bit = _mm_set1_epi8(0x20);
    const __m128i backquote = _mm_set1_epi8('`'), apostrophe = _mm_set1_epi8('\'');
    unsigned prev = *prev_space;
    Py_ssize_t w = 0, n = *len;
    while (end - (p + taken) >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + taken));
        unsigned spaces = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space));
        unsigned before = ((spaces << 1) | prev) & 0xFFFF; /* bit i: byte i-1 was a space */
        /* bit i: byte i is a stop byte or the second of two spaces (collapsed below) */
        unsigned cut = stop_bits(v) | (spaces & before);
        int k = cut ? __builtin_ctz(cut) : 16;  /* the bytes taken here */
        unsigned taken_bits = (1u << k) - 1u;   /* k <= 16: no overflow in 32 bits */
        w += popcount16(~spaces & before & taken_bits);
        if (k > 0) prev = (spaces >> (k - 1)) & 1u;
        if (out != NULL) {
            __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, below_a), _mm_cmpgt_epi8(above_z, v));
            __m128i folded = _mm_or_si128(v, _mm_and_si128(upper, case_bit));
            __m128i quotes = _mm_cmpeq_epi8(v, backquote);
            folded = _mm_or_si128(_mm_andnot_si128(quotes, folded), _mm_and_si128(quotes, apostrophe));
            _mm_storeu_si128((__m128i *)(out + n), folded); /* bytes past the prefix are written over later */
            n += k;
        }
        taken += k;
        if (cut) break;
    }
    *prev_space = prev;
    *words += w;
    *len = n;
#endif
    return taken;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_PATH 1
#include <immintrin.h>
/* simple_chunks 32 bytes at a time, for a CPU with AVX2 (chosen at run time: the wheel is
 * built for any x86-64). The same masks, one bit per byte in 32; a tail under 32 bytes goes
 * through simple_chunks. */
__attribute__((target("avx2,popcnt"))) static Py_ssize_t simple_chunks_avx2(const unsigned char *p, const unsigned char *end, unsigned char *out,
                                                                          Py_ssize_t *len, Py_ssize_t *words, unsigned *prev_space) {
    const __m256i space = _mm256_set1_epi8(' '), quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\');
    const __m256i control = _mm256_set1_epi8(0x1F), del = _mm256_set1_epi8(0x7F);
    const __m256i below_a = _mm256_set1_epi8('A' - 1), above_z = _mm256_set1_epi8('Z' + 1), case_bit = _mm256_set1_epi8(0x20);
    const __m256i backquote = _mm256_set1_epi8('`'), apostrophe = _mm256_set1_epi8('\'');
    Py_ssize_t taken = 0, w = 0, n = *len;
    uint32_t prev = *prev_space;
    while (end - (p + taken) >= 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + taken));
        __m256i stop = _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash));
        stop = _mm256_or_si256(stop, _mm256_cmpeq_epi8(_mm256_min_epu8(v, control), v));
        stop = _mm256_or_si256(stop, _mm256_cmpeq_epi8(_mm256_max_epu8(v, del), v));
        uint32_t spaces = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, space));
        uint32_t before = (spaces << 1) | prev;
        uint32_t cut = (uint32_t)_mm256_movemask_epi8(stop) | (spaces & before);
        int k = cut ? __builtin_ctz(cut) : 32;
        uint32_t taken_bits = k == 32 ? 0xFFFFFFFFu : (1u << k) - 1u;
        w += __builtin_popcount(~spaces & before & taken_bits);
        if (k > 0) prev = (spaces >> (k - 1)) & 1u;
        if (out != NULL) {
            __m256i upper = _mm256_and_si256(_mm256_cmpgt_epi8(v, below_a), _mm256_cmpgt_epi8(above_z, v));
            __m256i folded = _mm256_or_si256(v, _mm256_and_si256(upper, case_bit));
            __m256i quotes = _mm256_cmpeq_epi8(v, backquote);
            folded = _mm256_blendv_epi8(folded, apostrophe, quotes);
            _mm256_storeu_si256((__m256i *)(out + n), folded); /* out has room: see the callers' bounds */
            n += k;
        }
        taken += k;
        if (cut) {
            *prev_space = prev;
            *words += w;
            *len = n;
            return taken;
        }
    }
    *prev_space = prev;
    *words += w;
    *len = n;
    return taken + simple_chunks(p + taken, end, out, len, words, prev_space);
}
#endif

/* Which vector loop folds the simple runs: 0 none (the scalar loops take every byte: the
 * reference the others are tested against), 1 SSE2, 2 AVX2 where the CPU has it. */
static int simd_level = 1;

static inline Py_ssize_t fold_chunks(const unsigned char *p, const unsigned char *end, unsigned char *out, Py_ssize_t *len, Py_ssize_t *words,
                                     unsigned *prev_space) {
#ifdef HAVE_AVX2_PATH
    if (simd_level >= 2) return simple_chunks_avx2(p, end, out, len, words, prev_space);
#endif
    return simd_level >= 1 ? simple_chunks(p, end, out, len, words, prev_space) : 0;
}

static int best_simd_level(void) {
#ifdef HAVE_AVX2_PATH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) return 2;
#endif
    return 1;
}

/* The text string at s->p: decoded, measured and (with ts->out) folded as normalized_utf8
 * does. Returns 0, or -1 to refuse.
 *
 * Spaces are written as they come unless the previous code point was a space (or nothing
 * was written yet), and a final one is dropped at the end: the same output as collapsing
 * and trimming, with no branch per byte in the ASCII loop (word ends are unpredictable). */
static int scan_text(Cursor *s, TextScan *ts) {
    const unsigned char *p = s->p + 1, *end = s->end;
    unsigned char *out = ts->out;
    Py_ssize_t chars = 0, bytes = 0, words = 0, len = 0;
    unsigned prev_space = 1; /* the previous code point was a space, or there was none */
    int canonical = 1;
    for (;;) {
        if (*p == ' ' && !simple_ascii[p[1]]) {
            /* A lone space between non-ASCII words (Cyrillic, Greek, CJK): no run to scan. */
            p++;
            chars++;
            bytes++;
            if (out) {
                out[len] = ' ';
                len += !prev_space;
            }
            prev_space = 1;
        } else if (simple_ascii[*p]) {
            Py_ssize_t fast = fold_chunks(p, end, out, &len, &words, &prev_space);
            p += fast;
            chars += fast;
            bytes += fast;
            const unsigned char *run = p;
            p = simple_run_end(p, end);
            if (p != run) {
                scan_simple_run(run, p, out, &len, &words, &prev_space);
                chars += p - run;
                bytes += p - run;
            }
        }
        if (p >= end) return -1;
        unsigned char c = *p;
        const unsigned char *start_of_cp = p;
        Py_UCS4 cp;
        if (c == '"') break;
        if (c == '\\') {
            int n = decode_escape(p, end, &cp);
            if (!n) return -1;
            canonical &= canonical_escape(p);
            p += n;
        } else if (c < 0x80) {
            return -1; /* a raw control character */
        } else {
            int n = decode_utf8(p, end, &cp);
            if (!n) return -1;
            p += n;
        }
        chars++;
        bytes += 1 + (cp >= 0x80) + (cp >= 0x800) + (cp >= 0x10000);
        uint32_t info = cp < 0x10000 ? bmp_info[cp] : (cp_nfc_unsafe(cp) ? INFO_UNSAFE : 0);
        if (info & INFO_SPACE) {
            if (out) {
                out[len] = ' ';
                len += !prev_space;
            }
            prev_space = 1;
            continue;
        }
        words += prev_space;
        prev_space = 0;
        if (!out) continue;
        if (info & INFO_UNSAFE) return -1;
        if (cp < 0x80) {
            out[len++] = ascii_fold[cp];
            continue;
        }
        if (cp < 0x10000) {
            Py_UCS4 f = info & INFO_CP;
            if (f == cp && c >= 0x80) {
                /* Unchanged and written as such in the line: copy its bytes, four at once
                 * where four are there to read (out always has room to spare). */
                Py_ssize_t n = p - start_of_cp;
                if (end - start_of_cp >= 4) {
                    uint32_t word;
                    memcpy(&word, start_of_cp, 4);
                    memcpy(out + len, &word, 4);
                } else {
                    for (Py_ssize_t k = 0; k < n; k++) out[len + k] = start_of_cp[k];
                }
                len += n;
                continue;
            }
            if (f != INFO_MANY) {
                len = put_utf8(out, len, f);
                continue;
            }
        }
        Py_UCS4 folded[3];
        int n = fold_cp(cp, folded);
        if (n == 0) return -1;
        for (int k = 0; k < n; k++) len = put_utf8(out, len, folded[k]);
    }
    if (len > 0 && out[len - 1] == ' ') len--;
    s->p = p + 1;
    ts->chars = chars;
    ts->bytes = bytes;
    ts->words = words;
    ts->out_len = len;
    ts->canonical = canonical;
    return 0;
}

static inline int key_is(const unsigned char *key, Py_ssize_t n, const char *name, Py_ssize_t name_len) {
    return n == name_len && memcmp(key, name, (size_t)n) == 0;
}

typedef struct {
    const char *text, *id;
    Py_ssize_t text_len, id_len;
    const char *reserved; /* NUL-separated names that stop a line from being copied */
    Py_ssize_t reserved_len;
    Py_ssize_t max_bytes;
} Fields;

typedef struct {
    TextScan ts;
    const unsigned char *text_at, *text_end, *id_at, *id_end;
    int id_quoted;
    int copyable; /* canonical, and no reserved key: the other members can be copied */
    int fixable;  /* no reserved key, and put_canonical writes the members as orjson would */
    Span members[MAX_KEYS]; /* the members other than text and id, "key":value each */
    Span member_keys[MAX_KEYS]; /* their keys, without quotes */
    int n_members;
    /* A nested "metadata" object, which the reader merges: its members come first in the
     * document's metadata, then the top-level ones (none may repeat one of its keys). */
    Span nested[MAX_KEYS], nested_keys[MAX_KEYS];
    int n_nested, has_nested;
} LineScan;

static int is_reserved(const Fields *f, const unsigned char *k, Py_ssize_t len) {
    const char *name = f->reserved, *stop = f->reserved + f->reserved_len;
    while (name < stop) {
        Py_ssize_t n = (Py_ssize_t)strlen(name);
        if (n == len && memcmp(name, k, (size_t)len) == 0) return 1;
        name += n + 1;
    }
    return 0;
}

/* The members of a nested "metadata" object at s->p (its '{'), recorded in o->nested.
 * Returns 0, or -1 to refuse the line. */
static int scan_nested(Cursor *s, const Fields *f, LineScan *o, int *reserved) {
    Span keys[MAX_KEYS];
    int n_keys = 0;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        int escaped;
        if (s->p >= s->end || *s->p != '"') return -1;
        const unsigned char *member = s->p, *k = s->p + 1;
        if (skip_string(s, &escaped) < 0) return -1;
        Py_ssize_t klen = (s->p - 1) - k;
        if (escaped) s->canonical = s->fixable = 0; /* it could spell "source" or a top-level key */
        note_key(s, keys, &n_keys, k, klen);
        *reserved |= is_reserved(f, k, klen);
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') return -1;
        s->p++;
        skip_ws(s);
        if (skip_value(s, 2) < 0) return -1;
        if (o->n_nested < MAX_KEYS) {
            o->nested[o->n_nested].at = member;
            o->nested[o->n_nested].len = s->p - member;
            o->nested_keys[o->n_nested].at = k;
            o->nested_keys[o->n_nested].len = klen;
            o->n_nested++;
        }
        int next = after_member(s, '}');
        if (next <= 0) return next;
    }
}

/* Scans one line; 0 when it is a record the scanner is sure of, -1 to refuse it. */
static int scan_line(const unsigned char *base, Py_ssize_t len, const Fields *f, LineScan *o) {
    Cursor s = {base, base + len, 1, 1};
    Span keys[MAX_KEYS];
    int n_keys = 0, seen_text = 0, seen_id = 0;
    o->text_at = o->text_end = o->id_at = o->id_end = NULL;
    o->id_quoted = 0;
    o->n_members = o->n_nested = o->has_nested = 0;
    if (len > f->max_bytes) return -1; /* the reference measures it and rejects or keeps it */
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{') return -1;
    s.p++;
    skip_ws(&s);
    int reserved = 0;
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            int escaped;
            if (s.p >= s.end || *s.p != '"') return -1;
            const unsigned char *member = s.p, *k = s.p + 1;
            if (skip_string(&s, &escaped) < 0) return -1;
            Py_ssize_t klen = (s.p - 1) - k;
            if (escaped) return -1; /* an escaped key could spell either field */
            skip_ws(&s);
            if (s.p >= s.end || *s.p != ':') return -1;
            s.p++;
            skip_ws(&s);
            if (s.p >= s.end) return -1;
            if (key_is(k, klen, f->text, f->text_len)) {
                if (seen_text || *s.p != '"') return -1;
                seen_text = 1;
                o->text_at = s.p;
                if (scan_text(&s, &o->ts) < 0) return -1;
                o->text_end = s.p;
            } else if (key_is(k, klen, f->id, f->id_len)) {
                if (seen_id) return -1;
                seen_id = 1;
                o->id_at = s.p;
                if (*s.p == '"') {
                    if (skip_string(&s, &escaped) < 0 || escaped) return -1;
                    o->id_quoted = 1;
                } else if (*s.p == 'n') {
                    if (skip_literal(&s, "null", 4) < 0) return -1;
                    o->id_at = NULL;
                } else {
                    int integer;
                    if (skip_number(&s, &integer) < 0 || !integer) return -1;
                    if (s.p - o->id_at > 18 || (*o->id_at == '-' && o->id_at[1] == '0')) return -1;
                }
                o->id_end = s.p;
            } else if (key_is(k, klen, "metadata", 8) && *s.p == '{' && !o->has_nested) {
                note_key(&s, keys, &n_keys, k, klen);
                o->has_nested = 1;
                if (scan_nested(&s, f, o, &reserved) < 0) return -1;
            } else {
                note_key(&s, keys, &n_keys, k, klen);
                /* a second "metadata", or one that is not an object: the reader's own case */
                reserved |= is_reserved(f, k, klen) || key_is(k, klen, "metadata", 8);
                if (skip_value(&s, 1) < 0) return -1;
                if (o->n_members < MAX_KEYS) {
                    o->members[o->n_members].at = member;
                    o->members[o->n_members].len = s.p - member;
                    o->member_keys[o->n_members].at = k;
                    o->member_keys[o->n_members].len = klen;
                    o->n_members++;
                }
            }
            int next = after_member(&s, '}');
            if (next < 0) return -1;
            if (next == 0) break;
        }
    }
    skip_ws(&s);
    if (s.p != s.end || !seen_text) return -1;
    if (o->ts.words == 0 || o->ts.bytes > f->max_bytes) return -1; /* empty, blank or too large: the reference rejects it */
    /* A top-level key that repeats a nested one takes its place in the merged metadata: left
     * to the reader. (Past MAX_KEYS members note_key has already cleared both flags.) */
    for (int i = 0; i < o->n_members && !reserved; i++)
        for (int j = 0; j < o->n_nested; j++)
            if (o->member_keys[i].len == o->nested_keys[j].len && memcmp(o->member_keys[i].at, o->nested_keys[j].at, (size_t)o->nested_keys[j].len) == 0)
                reserved = 1;
    o->copyable = s.canonical && !reserved;
    o->fixable = s.fixable && !reserved;
    return 0;
}

static inline unsigned char *put_bytes(unsigned char *out, const void *src, Py_ssize_t n) {
    memcpy(out, src, (size_t)n);
    return out + n;
}

/* One code point of a string as orjson writes it: the two-character escapes for " \\ and
 * \b \t \n \f \r, \u00xx (lower case) for the other control characters, UTF-8 otherwise. */
static inline unsigned char *put_json_cp(unsigned char *out, Py_UCS4 cp) {
    static const char hex[] = "0123456789abcdef";
    if (cp >= 0x20 && cp != '"' && cp != '\\') return out + put_utf8(out, 0, cp);
    *out++ = '\\';
    switch (cp) {
    case '"': *out++ = '"'; break;
    case '\\': *out++ = '\\'; break;
    case 0x08: *out++ = 'b'; break;
    case 0x09: *out++ = 't'; break;
    case 0x0A: *out++ = 'n'; break;
    case 0x0C: *out++ = 'f'; break;
    case 0x0D: *out++ = 'r'; break;
    default:
        out = put_bytes(out, "u00", 3);
        *out++ = (unsigned char)hex[cp >> 4];
        *out++ = (unsigned char)hex[cp & 15];
    }
    return out;
}

/* JSON bytes [p, end) that the scanner read and found fixable (a member "key":value, or a
 * value), written as orjson.dumps writes them: whitespace between tokens dropped, string
 * escapes in orjson's forms (\u00e9 as é, \/ as /, surrogate pairs as UTF-8). Never longer
 * than its input. */
static unsigned char *put_canonical(unsigned char *out, const unsigned char *p, const unsigned char *end) {
    while (p < end) {
        unsigned char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            p++;
            continue;
        }
        *out++ = c;
        p++;
        if (c != '"') continue;
        while (p < end) { /* a string the scanner validated: raw UTF-8 and escapes */
            c = *p;
            if (c == '"') {
                *out++ = '"';
                p++;
                break;
            }
            if (c != '\\') {
                *out++ = c;
                p++;
                continue;
            }
            Py_UCS4 cp;
            int n = decode_escape(p, end, &cp);
            if (n == 0) return out; /* cannot happen after the scan; stops rather than loops */
            p += n;
            out = put_json_cp(out, cp);
        }
    }
    return out;
}

/* The decimal digits of a line number (snprintf's "%lld" for them, without
 * the format parsing: once per output line). Returns the length; buf holds 24 bytes. */
static int put_decimal(char *buf, long long value) {
    char digits[24];
    int n = 0;
    unsigned long long v = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    int len = 0;
    if (value < 0) buf[len++] = '-';
    while (n) buf[len++] = digits[--n];
    return len;
}

static unsigned char *put_source(unsigned char *out, const char *path_json, Py_ssize_t path_len, const char *number, int number_len) {
    out = put_bytes(out, "\"source\":{\"path\":", 17);
    out = put_bytes(out, path_json, path_len);
    out = put_bytes(out, ",\"line\":", 8);
    out = put_bytes(out, number, number_len);
    *out++ = '}';
    return out;
}

/* The output line the writer would write for this record with its text dropped:
 * {"id":…,"text":null,"metadata":{<other members>,"source":{"path":…,"line":N}}}\n
 * or, with_text (only for a record whose text is canonical too), with the text's bytes
 * copied in place of null: what orjson.dumps writes for the whole document. */
/* At least the bytes write_output_line writes for this record (put_canonical never writes
 * more than it reads). */
static Py_ssize_t output_line_bound(const LineScan *o, Py_ssize_t path_len, int with_text) {
    Py_ssize_t text_len = with_text ? o->text_end - o->text_at : 4;
    Py_ssize_t size = 64 + 48 + text_len + 2 * path_len + (o->id_at ? o->id_end - o->id_at : 0);
    for (int i = 0; i < o->n_members; i++) size += o->members[i].len + 1;
    for (int i = 0; i < o->n_nested; i++) size += o->nested[i].len + 1;
    return size;
}

/* Writes the output line at out (room for output_line_bound bytes) and returns its end. */
static unsigned char *write_output_line(unsigned char *out, const LineScan *o, const char *path_json, Py_ssize_t path_len, long long line_no, int with_text) {
    int exact = o->copyable; /* else fixable: members written again by put_canonical */
    char number[24];
    int number_len = put_decimal(number, line_no);
    Py_ssize_t text_len = with_text ? o->text_end - o->text_at : 4;
    out = put_bytes(out, "{\"id\":", 6);
    const unsigned char *from = o->id_at ? o->id_at + o->id_quoted : NULL, *to = o->id_at ? o->id_end - o->id_quoted : NULL;
    if (from != NULL && to > from) {
        *out++ = '"';
        out = put_bytes(out, from, to - from);
        *out++ = '"';
    } else { /* the id derived from the position: "<path>:<line>" */
        out = put_bytes(out, path_json, path_len - 1);
        *out++ = ':';
        out = put_bytes(out, number, number_len);
        *out++ = '"';
    }
    out = put_bytes(out, ",\"text\":", 8);
    if (with_text && o->ts.canonical) {
        out = put_bytes(out, o->text_at, text_len);
    } else if (with_text) {
        out = put_canonical(out, o->text_at, o->text_end);
    } else {
        out = put_bytes(out, "null", 4);
    }
    out = put_bytes(out, ",\"metadata\":{", 13);
    /* The nested metadata's members, then the others; a "source" member is replaced where it
     * stands (the reader assigns metadata["source"]), else the source comes last. */
    int wrote_source = 0;
    for (int pass = 0; pass < 2; pass++) {
        const Span *list = pass ? o->members : o->nested, *keys = pass ? o->member_keys : o->nested_keys;
        int n = pass ? o->n_members : o->n_nested;
        for (int i = 0; i < n; i++) {
            if (keys[i].len == 6 && memcmp(keys[i].at, "source", 6) == 0) {
                out = put_source(out, path_json, path_len, number, number_len);
                wrote_source = 1;
            } else if (exact) {
                out = put_bytes(out, list[i].at, list[i].len);
            } else {
                out = put_canonical(out, list[i].at, list[i].at + list[i].len);
            }
            *out++ = ',';
        }
    }
    if (wrote_source) {
        out--; /* the comma after the last member */
    } else {
        out = put_source(out, path_json, path_len, number, number_len);
    }
    return put_bytes(out, "}}\n", 3);
}

static PyObject *output_line(const LineScan *o, const char *path_json, Py_ssize_t path_len, long long line_no, int with_text) {
    PyObject *line = PyBytes_FromStringAndSize(NULL, output_line_bound(o, path_len, with_text));
    if (line == NULL) return NULL;
    unsigned char *start = (unsigned char *)PyBytes_AS_STRING(line);
    unsigned char *out = write_output_line(start, o, path_json, path_len, line_no, with_text);
    if (_PyBytes_Resize(&line, out - start) < 0) return NULL;
    return line;
}

/* A buffer for a line's folded text, its length bounded by the line's: case folding grows a
 * code point's UTF-8 at most threefold (2-byte ΐ → 6 bytes). */
static PyObject *start_key(LineScan *o, Py_ssize_t len) {
    PyObject *key = PyBytes_FromStringAndSize(NULL, 3 * len + 16);
    if (key != NULL) o->ts.out = (unsigned char *)PyBytes_AS_STRING(key);
    return key;
}

/* The scanned record's id as a new str, or None where it has none (absent, null or ""). */
static PyObject *scanned_id(const LineScan *o) {
    if (o->id_at != NULL) {
        const unsigned char *from = o->id_at + o->id_quoted, *to = o->id_end - o->id_quoted;
        if (to > from) return PyUnicode_DecodeUTF8((const char *)from, to - from, "strict");
    }
    return Py_NewRef(Py_None);
}

static PyObject *scan_record(PyObject *self, PyObject *args) {
    PyObject *line_obj;
    Py_buffer text_field, id_field;
    Py_ssize_t max_bytes;
    int fold;
    const char *path_json = NULL, *reserved = "";
    Py_ssize_t path_len = 0, reserved_len = 0;
    long long line_no = 0;
    /* bytes only: its data always ends with a NUL, the sentinel the ASCII runs stop at. */
    if (!PyArg_ParseTuple(args, "Sy*y*np|z#Ly#:scan_record", &line_obj, &text_field, &id_field, &max_bytes, &fold, &path_json, &path_len,
                          &line_no, &reserved, &reserved_len))
        return NULL;
    PyObject *result = NULL, *key = NULL, *id = NULL, *copy = NULL;
    const unsigned char *base = (const unsigned char *)PyBytes_AS_STRING(line_obj);
    Py_ssize_t len = PyBytes_GET_SIZE(line_obj);
    Fields f = {text_field.buf, id_field.buf, text_field.len, id_field.len, reserved, reserved_len, max_bytes};
    LineScan o;
    memset(&o.ts, 0, sizeof o.ts);
    if (fold && (key = start_key(&o, len)) == NULL) goto done;
    if (scan_line(base, len, &f, &o) < 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if ((id = scanned_id(&o)) == NULL) goto done;
    if (key != NULL) {
        if (_PyBytes_Resize(&key, o.ts.out_len) < 0) goto done;
    } else {
        key = Py_NewRef(Py_None);
    }
    if (path_json != NULL && (o.copyable || o.fixable)) {
        copy = output_line(&o, path_json, path_len, line_no, 0);
        if (copy == NULL) goto done;
    } else {
        copy = Py_NewRef(Py_None);
    }
    result = Py_BuildValue("(OOnnnnnO)", id, key, o.ts.chars, o.ts.bytes, o.ts.words, (Py_ssize_t)(o.text_at - base), (Py_ssize_t)(o.text_end - base),
                           copy);
done:
    Py_XDECREF(key);
    Py_XDECREF(id);
    Py_XDECREF(copy);
    PyBuffer_Release(&text_field);
    PyBuffer_Release(&id_field);
    return result;
}

static inline int blank_byte(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C; }

/* scan_block(buffer, start, limit, first_line, text_field, id_field, max_bytes, fold, path_json, reserved[, with_text, digest, joined])
 *   -> (newlines, numbers, ids, keys, textless)
 * With fold and digest, ``keys`` is one bytes object of 16 bytes per line in ``numbers``: the
 * canonical (big-endian) XXH3-128 of its key, as python-xxhash's xxh3_128_digest gives, zeros
 * for a declined line; each key is folded into one scratch buffer, reused, never a bytes.
 * With with_text, ``textless`` holds each such record's whole output line instead, text
 * included (copied where its escapes are orjson's, else written again by put_canonical).
 * With joined (and path_json), ``textless`` is instead (lines, ends): the output lines end to
 * end in one bytes, and one native int64 per line in ``numbers``, where its line ends in
 * ``lines`` (it starts where the one before ends; an empty line is one not copied, the None
 * of the list): a writer takes a block's lines as one piece, with no object per line.
 * Every '\n'-terminated line of buffer[start:limit] (limit just after a '\n'), framed as the
 * reader frames lines: one trailing '\r' dropped, blank lines (bytes.isspace) skipped. For
 * each other line, in order: ids/keys/textless as scan_record gives them (key only with fold,
 * textless only with path_json), and NUMBERS int64 in ``numbers``: line number, start and
 * length in buffer, chars, UTF-8 bytes, words, and the text value's span in the line (quotes
 * included); chars is -1 for a line the scanner declines. */
#define NUMBERS 8
static PyObject *scan_block(PyObject *self, PyObject *args) {
    PyObject *buffer;
    Py_ssize_t start, limit, max_bytes, path_len = 0, reserved_len = 0;
    long long line_no;
    Py_buffer text_field, id_field;
    int fold;
    const char *path_json = NULL, *reserved = "";
    int with_text = 0, digest = 0, joined = 0;
    if (!PyArg_ParseTuple(args, "SnnLy*y*npz#y#|ppp:scan_block", &buffer, &start, &limit, &line_no, &text_field, &id_field, &max_bytes, &fold, &path_json,
                          &path_len, &reserved, &reserved_len, &with_text, &digest, &joined))
        return NULL;
    digest = digest && fold;
    joined = joined && path_json != NULL;
    /* joined: the output lines end to end in one bytes (out), their ends in out_ends */
    PyObject *out = NULL;
    Py_ssize_t out_len = 0, out_cap = 0;
    long long *out_ends = NULL;
    PyObject *ids = PyList_New(0), *keys = PyList_New(0), *textless = PyList_New(0), *numbers = NULL, *result = NULL;
    long long *nums = NULL;
    unsigned char *digests = NULL, *scratch = NULL; /* with digest: 16 bytes a line; the key being folded */
    size_t scratch_cap = 0;
    Py_ssize_t n_docs = 0, cap = 0, newlines = 0;
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(buffer);
    if (start < 0 || limit < start || limit > PyBytes_GET_SIZE(buffer)) {
        PyErr_SetString(PyExc_ValueError, "scan_block(): start or limit out of range");
        goto done;
    }
    if (ids == NULL || keys == NULL || textless == NULL) goto done;
    Fields f = {text_field.buf, id_field.buf, text_field.len, id_field.len, reserved, reserved_len, max_bytes};
    LineScan o;
    const unsigned char *p = data + start, *stop = data + limit;
    while (p < stop) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(stop - p));
        if (nl == NULL) break; /* limit is just after a newline: nothing is left here */
        Py_ssize_t len = nl - p;
        if (len > 0 && p[len - 1] == '\r') len--;
        line_no++;
        newlines++;
        Py_ssize_t k = 0;
        while (k < len && blank_byte(p[k])) k++;
        if (k == len) {
            p = nl + 1;
            continue;
        }
        if (n_docs == cap) {
            cap = cap ? 2 * cap : 1024;
            long long *grown = (long long *)realloc(nums, sizeof(long long) * NUMBERS * (size_t)cap);
            if (grown == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            nums = grown;
            if (joined) {
                long long *more = (long long *)realloc(out_ends, sizeof(long long) * (size_t)cap);
                if (more == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                out_ends = more;
            }
            if (digest) {
                unsigned char *more = (unsigned char *)realloc(digests, 16 * (size_t)cap);
                if (more == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                digests = more;
            }
        }
        long long *row = nums + NUMBERS * n_docs;
        row[0] = line_no;
        row[1] = p - data;
        row[2] = len;
        PyObject *key = NULL, *id = NULL, *copy = NULL;
        memset(&o.ts, 0, sizeof o.ts);
        if (digest) {
            size_t need = 3 * (size_t)len + 16; /* as start_key's bound */
            if (need > scratch_cap) {
                free(scratch);
                scratch_cap = need > 2 * scratch_cap ? need : 2 * scratch_cap;
                if ((scratch = (unsigned char *)malloc(scratch_cap)) == NULL) {
                    scratch_cap = 0;
                    PyErr_NoMemory();
                    goto done;
                }
            }
            o.ts.out = scratch;
        } else if (fold && (key = start_key(&o, len)) == NULL) {
            goto done;
        }
        if (scan_line(p, len, &f, &o) < 0) {
            Py_XDECREF(key);
            if (digest) memset(digests + 16 * n_docs, 0, 16);
            row[3] = -1;
            row[4] = row[5] = row[6] = row[7] = 0;
            key = Py_NewRef(Py_None);
            id = Py_NewRef(Py_None);
            copy = Py_NewRef(Py_None);
        } else {
            row[3] = o.ts.chars;
            row[4] = o.ts.bytes;
            row[5] = o.ts.words;
            row[6] = o.text_at - p;
            row[7] = o.text_end - p;
            if (digest) {
                XXH128_canonical_t canonical;
                XXH128_canonicalFromHash(&canonical, XXH3_128bits(scratch, (size_t)o.ts.out_len));
                memcpy(digests + 16 * n_docs, canonical.digest, 16);
            }
            if (key != NULL) {
                if (_PyBytes_Resize(&key, o.ts.out_len) < 0) goto done;
            } else {
                key = Py_NewRef(Py_None);
            }
            id = scanned_id(&o);
            if (joined) {
                if (o.copyable || o.fixable) {
                    Py_ssize_t need = out_len + output_line_bound(&o, path_len, with_text);
                    if (need > out_cap) { /* grown by half again at least: few reallocations a block */
                        Py_ssize_t grown_cap = need > out_cap + out_cap / 2 ? need : out_cap + out_cap / 2;
                        if (grown_cap < (limit - start) + 4096) grown_cap = (limit - start) + (limit - start) / 8 + 4096;
                        if (out == NULL ? (out = PyBytes_FromStringAndSize(NULL, grown_cap)) == NULL : _PyBytes_Resize(&out, grown_cap) < 0) {
                            Py_XDECREF(key);
                            Py_XDECREF(id);
                            goto done;
                        }
                        out_cap = grown_cap;
                    }
                    unsigned char *at = (unsigned char *)PyBytes_AS_STRING(out);
                    out_len = write_output_line(at + out_len, &o, path_json, path_len, line_no, with_text) - at;
                }
                copy = Py_NewRef(Py_None);
            } else {
                copy = (path_json != NULL && (o.copyable || o.fixable)) ? output_line(&o, path_json, path_len, line_no, with_text) : Py_NewRef(Py_None);
            }
        }
        if (joined) out_ends[n_docs] = out_len; /* an uncopied line: empty (a written line never is) */
        int failed = id == NULL || copy == NULL || (!digest && PyList_Append(keys, key) < 0) || PyList_Append(ids, id) < 0 || (!joined && PyList_Append(textless, copy) < 0);
        Py_XDECREF(key);
        Py_XDECREF(id);
        Py_XDECREF(copy);
        if (failed) goto done;
        n_docs++;
        p = nl + 1;
    }
    numbers = PyBytes_FromStringAndSize((const char *)nums, (Py_ssize_t)(sizeof(long long) * NUMBERS * (size_t)n_docs));
    if (numbers == NULL) goto done;
    if (digest) {
        Py_SETREF(keys, PyBytes_FromStringAndSize((const char *)digests, 16 * n_docs));
        if (keys == NULL) goto done;
    }
    if (joined) { /* (lines end to end, their ends as int64) in place of the list */
        if (out == NULL ? (out = PyBytes_FromStringAndSize(NULL, 0)) == NULL : _PyBytes_Resize(&out, out_len) < 0) goto done;
        PyObject *ends = PyBytes_FromStringAndSize((const char *)out_ends, (Py_ssize_t)(sizeof(long long) * (size_t)n_docs));
        if (ends == NULL) goto done;
        Py_SETREF(textless, PyTuple_Pack(2, out, ends));
        Py_DECREF(ends);
        if (textless == NULL) goto done;
    }
    result = Py_BuildValue("(nOOOO)", newlines, numbers, ids, keys, textless);
done:
    free(nums);
    free(out_ends);
    Py_XDECREF(out);
    free(digests);
    free(scratch);
    Py_XDECREF(numbers);
    Py_XDECREF(ids);
    Py_XDECREF(keys);
    Py_XDECREF(textless);
    PyBuffer_Release(&text_field);
    PyBuffer_Release(&id_field);
    return result;
}

/* block_texts(buffer, numbers) -> list of str (None where the scanner declined the line)
 * The text of every line scan_block scanned, decoded from its span (numbers' columns 1, 6, 7:
 * the line's start, the text value's span in it, quotes included): the str orjson.loads gives
 * for it. The scanner has validated each span (UTF-8, escapes, no lone surrogate), so a span
 * without a backslash is decoded where it lies and one with escapes is unescaped into a
 * scratch buffer first (JSON escapes are never shorter than the UTF-8 they stand for).
 * Lets a first pass that needs only ids and texts (the fused dedup collect) skip orjson and
 * the Document of every record. */
static PyObject *block_texts(PyObject *self, PyObject *args) {
    PyObject *buffer;
    Py_buffer nbuf;
    if (!PyArg_ParseTuple(args, "Sy*:block_texts", &buffer, &nbuf)) return NULL;
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(buffer);
    Py_ssize_t size = PyBytes_GET_SIZE(buffer), rows = nbuf.len / (Py_ssize_t)(sizeof(long long) * NUMBERS);
    const long long *nums = (const long long *)nbuf.buf;
    PyObject *texts = PyList_New(rows);
    unsigned char *scratch = NULL;
    Py_ssize_t scratch_cap = 0;
    if (texts == NULL) goto fail;
    for (Py_ssize_t r = 0; r < rows; r++) {
        const long long *row = nums + NUMBERS * r;
        PyObject *text;
        if (row[3] < 0) {
            text = Py_NewRef(Py_None);
        } else {
            long long from = row[1] + row[6] + 1, to = row[1] + row[7] - 1; /* inside the quotes */
            if (from < 0 || to < from || to > size) {
                PyErr_SetString(PyExc_ValueError, "block_texts(): a text span lies outside the buffer");
                goto fail;
            }
            const unsigned char *p = data + from, *end = data + to;
            const unsigned char *slash = memchr(p, '\\', (size_t)(end - p));
            if (slash == NULL) {
                text = PyUnicode_DecodeUTF8((const char *)p, end - p, "strict");
            } else {
                if (end - p > scratch_cap) {
                    free(scratch);
                    scratch_cap = (end - p) * 2;
                    scratch = (unsigned char *)malloc((size_t)scratch_cap);
                    if (scratch == NULL) {
                        PyErr_NoMemory();
                        goto fail;
                    }
                }
                Py_ssize_t len = 0;
                while (slash != NULL) {
                    memcpy(scratch + len, p, (size_t)(slash - p));
                    len += slash - p;
                    Py_UCS4 cp;
                    int n = decode_escape(slash, end, &cp);
                    if (!n) {
                        PyErr_SetString(PyExc_ValueError, "block_texts(): an escape the scanner did not validate");
                        goto fail;
                    }
                    len = put_utf8(scratch, len, cp);
                    p = slash + n;
                    slash = memchr(p, '\\', (size_t)(end - p));
                }
                memcpy(scratch + len, p, (size_t)(end - p));
                len += end - p;
                text = PyUnicode_DecodeUTF8((const char *)scratch, len, "strict");
            }
            if (text == NULL) goto fail;
        }
        PyList_SET_ITEM(texts, r, text);
    }
    free(scratch);
    PyBuffer_Release(&nbuf);
    return texts;
fail:
    free(scratch);
    Py_XDECREF(texts);
    PyBuffer_Release(&nbuf);
    return NULL;
}

static PyObject *set_nfc_unsafe(PyObject *self, PyObject *arg) {
    Py_buffer bitmap;
    if (PyObject_GetBuffer(arg, &bitmap, PyBUF_SIMPLE) < 0) return NULL;
    unsigned char *copy = (unsigned char *)malloc((size_t)bitmap.len + 1);
    if (copy == NULL) {
        PyBuffer_Release(&bitmap);
        return PyErr_NoMemory();
    }
    memcpy(copy, bitmap.buf, (size_t)bitmap.len);
    unsigned char *old = nfc_unsafe;
    nfc_unsafe = copy;
    nfc_limit = bitmap.len * 8;
    free(old);
    for (Py_UCS4 c = 0x300; c < 0x10000; c++) {
        int unsafe = cp_nfc_unsafe(c);
        unsafe = unsafe || is_ignorable((Py_UCS4)c); /* dropped from the key: left to the reference */
        bmp_info[c] = unsafe ? (bmp_info[c] | INFO_UNSAFE) : (bmp_info[c] & ~INFO_UNSAFE);
    }
    PyBuffer_Release(&bitmap);
    Py_RETURN_NONE;
}

/* set_simd(level) -> the level now in use: the vector loop the text scan uses (see
 * simd_level), at most the best this CPU has; -1 for the best. For tests, which compare each
 * level with the reference. */
static PyObject *set_simd(PyObject *self, PyObject *arg) {
    long level = PyLong_AsLong(arg);
    if (level == -1 && PyErr_Occurred()) return NULL;
    int best = best_simd_level();
    simd_level = level < 0 || level > best ? best : (int)level;
    return PyLong_FromLong(simd_level);
}

/* The number of '\n' bytes in a buffer: plans byte-range tasks. */
static PyObject *count_newlines(PyObject *self, PyObject *arg) {
    Py_buffer buf;
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *p = (const unsigned char *)buf.buf, *end = p + buf.len;
    Py_ssize_t count = 0;
    Py_BEGIN_ALLOW_THREADS
    /* memchr is the C library's vector loop; lines are long, so one call per line is cheap. */
    while (p < end) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) break;
        count++;
        p = nl + 1;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(count);
}

/* first_seen(digests, ids, keepers) -> {index: keeper id}
 * Exact dedup's decision for a block whose every line was scanned, in order (the reference
 * is the loop of JsonlSource.stream_first_seen it stands for): line i's key is its 16-byte
 * digest, digests[16 * i : 16 * i + 16]; a key not in ``keepers`` (FirstSeen.keepers, which
 * this fills) gets ids[i] as its keeper, a key already there makes i a duplicate of its
 * keeper. A method call and a slice per document had been a tenth of the one-pass run. */
static PyObject *first_seen(PyObject *self, PyObject *args) {
    PyObject *digests, *ids, *keepers;
    if (!PyArg_ParseTuple(args, "SO!O!:first_seen", &digests, &PyList_Type, &ids, &PyDict_Type, &keepers)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(ids);
    if (PyBytes_GET_SIZE(digests) != 16 * n) {
        PyErr_SetString(PyExc_ValueError, "first_seen(): 16 bytes of digest per id");
        return NULL;
    }
    PyObject *duplicates = PyDict_New();
    if (duplicates == NULL) return NULL;
    const char *d = PyBytes_AS_STRING(digests);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PyBytes_FromStringAndSize(d + 16 * i, 16);
        if (key == NULL) goto fail;
        PyObject *keeper = PyDict_GetItemWithError(keepers, key); /* borrowed */
        int failed;
        if (keeper == NULL) {
            failed = PyErr_Occurred() != NULL || PyDict_SetItem(keepers, key, PyList_GET_ITEM(ids, i)) < 0;
        } else {
            PyObject *index = PyLong_FromSsize_t(i);
            failed = index == NULL || PyDict_SetItem(duplicates, index, keeper) < 0;
            Py_XDECREF(index);
        }
        Py_DECREF(key);
        if (failed) goto fail;
    }
    return duplicates;
fail:
    Py_DECREF(duplicates);
    return NULL;
}

/* take_lines(joined, ends, rejected) -> (kept, kept_ends, rejected_spans)
 * ``joined`` holds lines end to end, line i ending at the native int64 ends[i] (and starting
 * where line i - 1 ends); ``rejected`` lists line positions in ascending order. ``kept`` is
 * the other lines end to end (one copy per run between rejected lines), ``kept_ends`` their
 * ends in it (int64), ``rejected_spans`` each rejected line's (start, end) in ``joined``
 * (int64 pairs): what take_lines_reference in tamis/io/jsonl_fast.py gives. */
static PyObject *take_lines(PyObject *self, PyObject *args) {
    Py_buffer joined, ends_view;
    PyObject *rejected, *kept = NULL, *kept_ends = NULL, *spans = NULL, *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*O!:take_lines", &joined, &ends_view, &PyList_Type, &rejected)) return NULL;
    const long long *ends = (const long long *)ends_view.buf;
    Py_ssize_t n = ends_view.len / (Py_ssize_t)sizeof(long long), r = PyList_GET_SIZE(rejected);
    if (n > 0 ? ends[n - 1] != joined.len || ends[0] < 0 : joined.len != 0) goto bad; /* no line: nothing to take */
    for (Py_ssize_t i = 1; i < n; i++) {
        if (ends[i] < ends[i - 1]) goto bad;
    }
    Py_ssize_t dropped = 0, last = -1;
    spans = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(2 * sizeof(long long)) * r);
    if (spans == NULL) goto done;
    long long *span = (long long *)PyBytes_AS_STRING(spans);
    for (Py_ssize_t k = 0; k < r; k++) {
        Py_ssize_t i = PyLong_AsSsize_t(PyList_GET_ITEM(rejected, k));
        if (i == -1 && PyErr_Occurred()) goto done;
        if (i <= last || i >= n) goto bad;
        span[2 * k] = i ? ends[i - 1] : 0;
        span[2 * k + 1] = ends[i];
        dropped += (Py_ssize_t)(span[2 * k + 1] - span[2 * k]);
        last = i;
    }
    kept = PyBytes_FromStringAndSize(NULL, joined.len - dropped);
    kept_ends = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)sizeof(long long) * (n - r));
    if (kept == NULL || kept_ends == NULL) goto done;
    char *out = PyBytes_AS_STRING(kept);
    const char *from = (const char *)joined.buf;
    long long *kept_end = (long long *)PyBytes_AS_STRING(kept_ends), shift = 0, at = 0;
    Py_ssize_t next = 0, m = 0;
    for (Py_ssize_t k = 0; k <= r; k++) { /* the run of kept lines before rejected line k (or the end) */
        Py_ssize_t stop = k < r ? (Py_ssize_t)PyLong_AsSsize_t(PyList_GET_ITEM(rejected, k)) : n;
        if (stop > next) {
            long long a = next ? ends[next - 1] : 0, b = ends[stop - 1];
            memcpy(out + at, from + a, (size_t)(b - a));
            at += b - a;
            for (Py_ssize_t i = next; i < stop; i++) kept_end[m++] = ends[i] - shift;
        }
        if (k < r) shift += span[2 * k + 1] - span[2 * k];
        next = stop + 1;
    }
    result = PyTuple_Pack(3, kept, kept_ends, spans);
    goto done;
bad:
    PyErr_SetString(PyExc_ValueError, "take_lines: ends must rise to len(joined), rejected positions ascend within them");
done:
    Py_XDECREF(kept);
    Py_XDECREF(kept_ends);
    Py_XDECREF(spans);
    PyBuffer_Release(&joined);
    PyBuffer_Release(&ends_view);
    return result;
}

static PyMethodDef methods[] = {
    {"take_lines", take_lines, METH_VARARGS, "Lines end to end less the rejected positions: (kept, kept ends, rejected spans)."},
    {"first_seen", first_seen, METH_VARARGS, "Exact dedup's first-seen decision for a block's digests: {index: keeper id}."},
    {"scan_block", scan_block, METH_VARARGS, "Frame and scan every line of a block: (newlines, numbers, ids, keys, textless)."},
    {"block_texts", block_texts, METH_VARARGS, "The text of every line scan_block scanned, as str (None where it declined)."},
    {"count_newlines", count_newlines, METH_O, "The number of newline bytes in a buffer."},
    {"scan_record", scan_record, METH_VARARGS, "Validate one JSONL record and measure (and fold) its text; None when unsure."},
    {"set_simd", set_simd, METH_O, "The vector loop of the text scan: 0 scalar, 1 SSE2, 2 AVX2, -1 the best this CPU has."},
    {"set_nfc_unsafe", set_nfc_unsafe, METH_O, "The bitmap of code points that are not NFC-stable on their own."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jsonl", "Compiled JSONL record scanner.", -1, methods};

PyMODINIT_FUNC PyInit__jsonl(void) {
    if (init_unicode_core() < 0) return NULL;
    init_ascii_tables();
    simd_level = best_simd_level();
    if (init_bmp_info() < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && add_unicode_core_capsule(m) < 0) Py_CLEAR(m);
    return m;
}
