/* fastText supervised prediction (k = 1), compiled, with a per-word cache.
 *
 * fastText's predict reads a line, splits it on its whitespace bytes, and for every token
 * appends its input-matrix row ids (a dictionary word: its id and its character n-gram ids; an
 * unknown word: its n-gram ids; "</s>" ends the line), averages those rows and walks the output
 * layer (hierarchical softmax). Its cost is per token: each unknown word's n-grams
 * are hashed and looked up in the pruning map again at every occurrence. Here a token's id list
 * is computed once and kept in a cache keyed by the token's bytes, so a repeated word costs a
 * hash and a lookup. The rows are then added in exactly fastText's order, one id after the
 * other, in float, so the hidden vector, the score and the label are fastText's bit for bit
 * (tests compare with fasttext's own predict and with the plain-Python reference in
 * tamis/steps/fasttext_model.py, which documents every step).
 *
 * Model(entries, is_label, prune_keys, prune_values, rows, output, left, right, params)
 *   entries: list of bytes (the dictionary, fastText's order); is_label: bytes, 1 per entry;
 *   prune_keys/values: int32 bytes (bucket -> row offset, fastText's pruneidx);
 *   rows: float32 bytes, (nwords + rows of n-grams) x dim, the input matrix already dequantised
 *   (alpha * centroid: the same float products fastText adds); output: float32, osz x dim;
 *   left/right: int32 bytes, the Huffman tree of the hierarchical softmax;
 *   params: (dim, minn, maxn, bucket, nwords, pruneidx_size, loss, osz), then optionally max_cached
 *   (tokens the cache holds before it is emptied; the tests use a small one), loss must be 1 (hierarchical softmax, what
 *   lid.176 uses; other models are left to the fasttext library).
 * Model.predict(text: str) -> (label index, probability) or None (no row at all).
 *   The text is split like Python's str.split() followed by fastText on the joined line (what
 *   tamis's FastTextIdentifier feeds fastText: " ".join(text.split()) + "\n").
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define CACHE_MAX_TOKEN 64          /* longer tokens are computed every time, not cached */
#define CACHE_MAX_RECORDS (1 << 19) /* default: beyond this many tokens the cache is emptied */
#define CACHE_MAX_IDS (1 << 23)     /* or beyond this many cached ids (32 MB): memory stays bounded */
#define HIDDEN_DIM 16               /* lid.176's dimension: its sum has a loop of its own */
#define PREFETCH_AHEAD 8            /* rows fetched this many ids ahead of the sum */

typedef struct {
    uint32_t key_off, key_len, ids_off, ids_len;
    uint32_t hash;
} Record;

/* The front cache: a short token's ids in one 64-byte line, found by its hash alone. A lookup
 * in the cache proper reads four places spread over megabytes (the slot table, the record, the
 * key bytes, the ids): four cache misses for a token, most of predict's time on bench_recipe's
 * pages. An entry here is a copy of what the cache proper answers for its token (a token's ids
 * are a function of the model, so a copy never goes stale, whatever reset_cache does); a token
 * whose entry holds another one goes the cache proper's way and takes the entry. Tokens of at
 * most FRONT_KEY bytes with at most FRONT_IDS ids (96 % of the token occurrences of those pages,
 * each bound) are kept. */
#define FRONT_BITS 13
#define FRONT_KEY 18
#define FRONT_IDS 10

typedef struct {
    uint32_t hash;
    uint8_t key_len; /* 0: empty (a token has at least one byte) */
    uint8_t n_ids;
    char key[FRONT_KEY];
    int32_t ids[FRONT_IDS];
} FrontEntry;
_Static_assert(sizeof(FrontEntry) == 64, "a front entry is one cache line");

typedef struct {
    PyObject_HEAD
    int32_t dim, minn, maxn, bucket, nwords, loss, osz;
    int64_t pruneidx_size;
    uint64_t bucket_magic; /* ceil(2**64 / bucket): n-gram hash % bucket by two multiplies (bucket_of) */
    int32_t eos_id;
    float *rows;   /* dequantised input rows: rows_owner's bytes, held, not copied (3.2 MB for lid.176) */
    PyObject *rows_owner;
    Py_ssize_t n_rows;
    float *output; /* osz x dim */
    int32_t *left, *right;
    /* pruneidx: open addressing over (key, value) pairs, key -1 = empty; kept: one bit per
     * bucket (0 <= key < bucket), set for the buckets the map holds */
    int32_t (*prune)[2];
    size_t prune_mask;
    uint64_t *kept;
    /* token -> ids cache; the first n_permanent records are the dictionary */
    Record *records;
    size_t n_records, cap_records, n_permanent, max_cached;
    int32_t *slots; /* record index or -1; at most half full, doubled as the cache grows */
    size_t slot_mask;
    char *keys;
    size_t keys_len, keys_cap, keys_permanent;
    int32_t *ids;
    size_t ids_len, ids_cap, ids_permanent;
    FrontEntry *front; /* 1 << FRONT_BITS entries, each a cache line (front_block: the allocation) */
    void *front_block;
    /* scratch */
    int32_t *line_ids;
    size_t line_cap;
    float *hidden;
} Model;

static inline uint64_t read64(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t read32(const char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Where a token's entry goes in the caches (the slot table and the front cache): a hash of its
 * bytes read eight at a time. It only places entries (equality is decided by the bytes) and is
 * never fastText's: the n-gram hashes of compute_subwords are fastText's FNV-1a, byte by byte.
 * FNV-1a over the token (one multiply a byte, each waiting for the last) cost more than the
 * rest of a cached token's work. */
static inline uint32_t token_hash(const char *p, size_t len) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)len, tail;
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8) {
            h = (h ^ read64(p + i)) * 0xbf58476d1ce4e5b9ULL;
            h ^= h >> 31;
        }
        tail = read64(p + len - 8); /* overlaps the last round's bytes where len is not a multiple of 8 */
    } else if (len >= 4) {
        tail = (uint64_t)read32(p) | (uint64_t)read32(p + len - 4) << 32;
    } else if (len > 0) {
        tail = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[len >> 1] << 8 | (uint64_t)(unsigned char)p[len - 1] << 16;
    } else {
        tail = 0;
    }
    h = (h ^ tail) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* a[0:len] == b[0:len] for len <= 24 (front-cache keys): a few fixed-width reads instead of a
 * call to memcmp. Every read stays inside the len bytes. */
static inline int same_short(const char *a, const char *b, size_t len) {
    if (len >= 8) {
        if (read64(a) != read64(b) || read64(a + len - 8) != read64(b + len - 8)) return 0;
        return len <= 16 || read64(a + 8) == read64(b + 8);
    }
    if (len >= 4) return read32(a) == read32(b) && read32(a + len - 4) == read32(b + len - 4);
    return len == 0 || (a[0] == b[0] && a[len >> 1] == b[len >> 1] && a[len - 1] == b[len - 1]);
}

/* hash % bucket (Lemire, Kaser and Kurz, "Faster remainder by direct computation", 2019): exact
 * for every 32-bit hash and bucket, two multiplies instead of a division per n-gram. */
static inline uint32_t bucket_mod(uint64_t magic, uint32_t bucket, uint32_t hash) {
#if defined(__SIZEOF_INT128__)
    return (uint32_t)(((__uint128_t)(magic * hash) * bucket) >> 64);
#else
    (void)magic;
    return hash % bucket;
#endif
}

static inline uint32_t bucket_of(const Model *m, uint32_t hash) { return bucket_mod(m->bucket_magic, (uint32_t)m->bucket, hash); }

static int grow(void **buffer, size_t *cap, size_t need, size_t item) {
    if (need <= *cap) return 0;
    size_t cap2 = *cap ? *cap : 1024;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*buffer, cap2 * item);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    *buffer = p;
    *cap = cap2;
    return 0;
}

static int push_id(Model *m, int32_t id) {
    if (grow((void **)&m->ids, &m->ids_cap, m->ids_len + 1, sizeof(int32_t)) < 0) return -1;
    m->ids[m->ids_len++] = id;
    return 0;
}

/* fastText's pushHash: a bucket kept by pruning (or every bucket of an unpruned model). Most
 * n-grams of a pruned model (lid.176.ftz keeps ~43,000 of 2,000,000 buckets) fall in a bucket
 * pruning dropped: the bit map (256 kB for lid.176, where the map's keys and values are 1 MB)
 * answers those with one read (is_kept, asked first by compute_subwords); a kept bucket's row
 * offset comes from the map. */
static inline int is_kept(const Model *m, uint32_t id) {
    return m->pruneidx_size < 0 || (m->pruneidx_size > 0 && ((m->kept[id >> 6] >> (id & 63)) & 1));
}

/* The row offset of a bucket the bit map says is kept (0 <= b < bucket): its value in the map.
 * Every bucket whose bit is set is a key of the map (Model_init sets the bits from its keys). */
static inline int32_t kept_row(const Model *m, uint32_t b) {
    size_t s = (b * 2654435761u) & m->prune_mask;
    while (m->prune[s][0] != (int32_t)b) s = (s + 1) & m->prune_mask;
    return m->prune[s][1];
}

static int push_hash(Model *m, int32_t id) {
    if (m->pruneidx_size == 0 || id < 0) return 0;
    if (m->pruneidx_size > 0) {
        if (!((m->kept[(uint32_t)id >> 6] >> ((uint32_t)id & 63)) & 1)) return 0;
        size_t s = ((uint32_t)id * 2654435761u) & m->prune_mask;
        for (;;) {
            if (m->prune[s][0] == -1) return 0;
            if (m->prune[s][0] == id) break;
            s = (s + 1) & m->prune_mask;
        }
        id = m->prune[s][1];
    }
    return push_id(m, m->nwords + id);
}

/* fastText's computeSubwords on "<" + token + ">": every n-gram of minn..maxn UTF-8 characters,
 * but the lone "<" and ">", appended to m->ids. FNV-1a reads the bytes in order, so the hash of
 * the n-gram at i is carried from the (n-1)-gram's, one character's bytes more: each byte is
 * hashed once per start instead of once per n-gram (fastText hashes each n-gram's string
 * anew; the values are the same). A token of ASCII bytes (one byte a character) takes a loop
 * without the UTF-8 continuation tests; its n-grams and their order are the same. */
static int compute_subwords(Model *m, const char *token, size_t len) {
    char stack[CACHE_MAX_TOKEN + 2];
    char *word = len + 2 <= sizeof(stack) ? stack : malloc(len + 2);
    if (!word) {
        PyErr_NoMemory();
        return -1;
    }
    word[0] = '<';
    memcpy(word + 1, token, len);
    word[len + 1] = '>';
    size_t size = len + 2;
    int rc = 0, ascii = 1;
    for (size_t k = 0; k < len; k++) ascii &= (unsigned char)token[k] < 0x80;
    if (ascii && m->minn >= 2 && m->pruneidx_size > 0) {
        /* lid.176's case (minn 2, maxn 4, pruned): no lone-character n-gram to leave out, each
         * start's first minn - 1 bytes only hashed, the model's fields in locals (a push writes
         * memory, so read through m they would be reloaded at every n-gram). The ids have room
         * for every n-gram of the token before the loop (at most maxn - minn + 1 a start), so a
         * kept bucket's row goes in with no capacity test and no call (kept_row). */
        const size_t maxn = m->maxn > 0 ? (size_t)m->maxn : 0, minn = (size_t)m->minn;
        const uint64_t *kept = m->kept, magic = m->bucket_magic;
        const uint32_t bucket = (uint32_t)m->bucket;
        const int32_t nwords = m->nwords;
        const size_t most = maxn >= minn ? size * (maxn - minn + 1) : 0;
        if (grow((void **)&m->ids, &m->ids_cap, m->ids_len + most, sizeof(int32_t)) < 0) {
            rc = -1;
        } else {
            int32_t *out = m->ids + m->ids_len;
            const unsigned char *w = (const unsigned char *)word;
            size_t i = 0;
            if (minn == 2 && maxn == 4) {
                /* the starts with all three n-grams (2, 3 and 4 bytes), unrolled: the same
                 * hashes, tests and order as the loop below, which takes the last starts */
                for (; i + 4 <= size; i++) {
                    const uint32_t h1 = (2166136261u ^ w[i]) * 16777619u;
                    const uint32_t h2 = (h1 ^ w[i + 1]) * 16777619u, h3 = (h2 ^ w[i + 2]) * 16777619u, h4 = (h3 ^ w[i + 3]) * 16777619u;
                    const uint32_t b2 = bucket_mod(magic, bucket, h2), b3 = bucket_mod(magic, bucket, h3), b4 = bucket_mod(magic, bucket, h4);
                    if ((kept[b2 >> 6] >> (b2 & 63)) & 1) *out++ = nwords + kept_row(m, b2);
                    if ((kept[b3 >> 6] >> (b3 & 63)) & 1) *out++ = nwords + kept_row(m, b3);
                    if ((kept[b4 >> 6] >> (b4 & 63)) & 1) *out++ = nwords + kept_row(m, b4);
                }
            }
            for (; i + minn <= size; i++) {
                uint32_t hash = 2166136261u; /* ft_hash(word + i, j - i) */
                size_t j = i, first = i + minn - 1, stop = size - i < maxn ? size : i + maxn;
                for (; j < first; j++) hash = (hash ^ (uint32_t)w[j]) * 16777619u;
                for (; j < stop; j++) {
                    hash = (hash ^ (uint32_t)w[j]) * 16777619u; /* ASCII: the int8_t cast changes nothing */
                    uint32_t h = bucket_mod(magic, bucket, hash);
                    if ((kept[h >> 6] >> (h & 63)) & 1) *out++ = nwords + kept_row(m, h);
                }
            }
            m->ids_len = (size_t)(out - m->ids);
        }
    } else {
        for (size_t i = 0; i < size && rc == 0; i++) {
            if ((word[i] & 0xC0) == 0x80) continue;
            size_t j = i;
            uint32_t hash = 2166136261u; /* ft_hash(word + i, j - i) */
            for (int32_t n = 1; j < size && n <= m->maxn; n++) {
                do {
                    hash ^= (uint32_t)(int8_t)word[j];
                    hash *= 16777619u;
                    j++;
                } while (j < size && (word[j] & 0xC0) == 0x80);
                if (n >= m->minn && !(n == 1 && (i == 0 || j == size))) {
                    uint32_t h = bucket_of(m, hash);
                    if (is_kept(m, h) && push_hash(m, (int32_t)h) < 0) {
                        rc = -1;
                        break;
                    }
                }
            }
        }
    }
    if (word != stack) free(word);
    return rc;
}

static int find_slot(Model *m, const char *key, size_t len, uint32_t hash, int32_t *record) {
    size_t s = hash & m->slot_mask;
    for (;;) {
        int32_t r = m->slots[s];
        if (r < 0) {
            *record = -1;
            return (int)s;
        }
        Record *rec = &m->records[r];
        if (rec->hash == hash && rec->key_len == len && memcmp(m->keys + rec->key_off, key, len) == 0) {
            *record = r;
            return (int)s;
        }
        s = (s + 1) & m->slot_mask;
    }
}

static int index_records(Model *m, size_t slots);

/* A new record for key whose ids are m->ids[ids_off:]: stored, indexed (slot: where find_slot
 * found no record, unless the table doubles first). */
static int add_record(Model *m, const char *key, size_t len, uint32_t hash, size_t ids_off, size_t slot) {
    if ((m->n_records + 1) * 2 > m->slot_mask + 1) {
        if (index_records(m, 2 * (m->slot_mask + 1)) < 0) return -1;
        slot = hash & m->slot_mask;
        while (m->slots[slot] >= 0) slot = (slot + 1) & m->slot_mask;
    }
    if (grow((void **)&m->records, &m->cap_records, m->n_records + 1, sizeof(Record)) < 0) return -1;
    if (grow((void **)&m->keys, &m->keys_cap, m->keys_len + len, 1) < 0) return -1;
    memcpy(m->keys + m->keys_len, key, len);
    Record *rec = &m->records[m->n_records];
    rec->key_off = (uint32_t)m->keys_len;
    rec->key_len = (uint32_t)len;
    rec->ids_off = (uint32_t)ids_off;
    rec->ids_len = (uint32_t)(m->ids_len - ids_off);
    rec->hash = hash;
    m->keys_len += len;
    m->slots[slot] = (int32_t)m->n_records++;
    return 0;
}

/* Index the records in a table of `slots` slots (a power of two): a new one where the size
 * changes. The table starts at the dictionary's size and doubles as the cache fills, rather
 * than at its largest (8 MB for lid.176, every page faulted in at each start: ~10 CPU-ms). */
static int index_records(Model *m, size_t slots) {
    if (!m->slots || slots != m->slot_mask + 1) {
        int32_t *table = malloc(slots * sizeof(int32_t));
        if (!table) {
            PyErr_NoMemory();
            return -1;
        }
        free(m->slots);
        m->slots = table;
        m->slot_mask = slots - 1;
    }
    memset(m->slots, 0xff, slots * sizeof(int32_t));
    for (size_t r = 0; r < m->n_records; r++) {
        Record *rec = &m->records[r];
        size_t s = rec->hash & m->slot_mask;
        while (m->slots[s] >= 0) s = (s + 1) & m->slot_mask;
        m->slots[s] = (int32_t)r;
    }
    return 0;
}

static void reset_cache(Model *m) {
    m->n_records = m->n_permanent;
    m->keys_len = m->keys_permanent;
    m->ids_len = m->ids_permanent;
    index_records(m, m->slot_mask + 1); /* the same size: no allocation, cannot fail */
}

static const char LABEL_PREFIX[] = "__label__";

/* The ids an unknown token contributes, appended to m->ids: none for a token fastText reads as
 * a label ("__label__..."), else its n-grams. */
static int unknown_token_ids(Model *m, const char *token, size_t len) {
    if (len >= sizeof(LABEL_PREFIX) - 1 && memcmp(token, LABEL_PREFIX, sizeof(LABEL_PREFIX) - 1) == 0) return 0;
    return compute_subwords(m, token, len);
}

/* Append token's ids to the line (through the cache); hash: token_hash(token, len). */
static int token_ids(Model *m, const char *token, size_t len, uint32_t hash, size_t *line_len) {
    int32_t r;
    int slot = find_slot(m, token, len, hash, &r);
    size_t ids_off, n;
    int scratch = 0; /* ids computed for this occurrence only */
    if (r >= 0) {
        ids_off = m->records[r].ids_off;
        n = m->records[r].ids_len;
    } else {
        ids_off = m->ids_len;
        if (unknown_token_ids(m, token, len) < 0) return -1;
        n = m->ids_len - ids_off;
        if (len <= CACHE_MAX_TOKEN && m->n_records - m->n_permanent < m->max_cached) {
            if (add_record(m, token, len, hash, ids_off, (size_t)slot) < 0) return -1;
        } else {
            scratch = 1;
        }
    }
    if (grow((void **)&m->line_ids, &m->line_cap, *line_len + n, sizeof(int32_t)) < 0) return -1;
    memcpy(m->line_ids + *line_len, m->ids + ids_off, n * sizeof(int32_t));
    *line_len += n;
    if (scratch) m->ids_len = ids_off;
    return 0;
}

/* Python's str.split() separators (Py_UNICODE_ISSPACE), plus NUL, which fastText also splits on. */
static inline int is_separator(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0;
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* is_separator for the ASCII characters, filled at the module's import. */
static uint8_t ascii_separator[128];

/* Decode one UTF-8 character at s[i] (valid UTF-8: Python produced it); its length in *step. */
static inline uint32_t decode(const unsigned char *s, size_t i, size_t *step) {
    unsigned char b = s[i];
    if (b < 0x80) {
        *step = 1;
        return b;
    }
    if (b < 0xE0) {
        *step = 2;
        return ((uint32_t)(b & 0x1F) << 6) | (s[i + 1] & 0x3F);
    }
    if (b < 0xF0) {
        *step = 3;
        return ((uint32_t)(b & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    }
    *step = 4;
    return ((uint32_t)(b & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) | ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
}

static inline float std_log(float x) { return (float)log((double)x + 1e-5); }

static float dot_row(const Model *m, const float *hidden, int32_t row) {
    const float *w = m->output + (size_t)row * m->dim;
    float d = 0.0f;
    for (int32_t j = 0; j < m->dim; j++) d += w[j] * hidden[j];
    return d;
}

/* fastText's HierarchicalSoftmaxLoss::dfs with k = 1 (a later leaf with an equal score wins, as
 * its heap does). */
static void dfs(const Model *m, float threshold_log, int32_t node, float score, float *best, int32_t *label) {
    if (score < threshold_log) return;
    if (*label >= 0 && score < *best) return;
    if (m->left[node] == -1 && m->right[node] == -1) {
        *best = score;
        *label = node;
        return;
    }
    float f = dot_row(m, m->hidden, node - m->osz);
    float e = expf(-f);
    float denominator = 1 + e;
    f = (float)(1.0 / (double)denominator);
    dfs(m, threshold_log, m->left[node], score + std_log((float)(1.0 - (double)f)), best, label);
    dfs(m, threshold_log, m->right[node], score + std_log(f), best, label);
}

/* Where the run of bytes 0x21..0x7F starting at i ends (such a byte is an ASCII character that
 * is never a separator): sixteen bytes a test where SSE2 is there. What stops it (a control
 * character, a space, a non-ASCII character) is read by the caller. */
static inline size_t plain_run_end(const unsigned char *s, size_t i, size_t n) {
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20);
    while (i + 16 <= n) {
        /* a signed comparison: 0x80..0xFF are negative, so only 0x21..0x7F are above 0x20 */
        __m128i bytes = _mm_loadu_si128((const __m128i *)(s + i));
        unsigned stops = (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(bytes, space)) ^ 0xFFFFu;
        if (stops) return i + (size_t)__builtin_ctz(stops);
        i += 16;
    }
#endif
    while (i < n && (signed char)s[i] > 0x20) i++;
    return i;
}

static PyObject *predict_utf8(Model *m, const char *text, Py_ssize_t size);

static PyObject *Model_predict(Model *m, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "predict() takes a str");
        return NULL;
    }
    Py_ssize_t size;
    PyObject *encoded = NULL; /* a text with lone surrogates: they read as '?' */
    const char *text = PyUnicode_AsUTF8AndSize(arg, &size);
    if (!text) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return NULL;
        PyErr_Clear();
        if (!(encoded = PyUnicode_AsEncodedString(arg, "utf-8", "replace"))) return NULL;
        text = PyBytes_AS_STRING(encoded);
        size = PyBytes_GET_SIZE(encoded);
    }
    PyObject *result = predict_utf8(m, text, size);
    Py_XDECREF(encoded);
    return result;
}

static PyObject *predict_utf8(Model *m, const char *text, Py_ssize_t size) {
    const unsigned char *s = (const unsigned char *)text;
    size_t line_len = 0, i = 0, n = (size_t)size;
    int ended = 0; /* a "</s>" token ends fastText's line */
    if (m->n_records - m->n_permanent >= m->max_cached || m->ids_len - m->ids_permanent > CACHE_MAX_IDS) reset_cache(m);
    while (i < n && !ended) {
        size_t step;
        for (;;) { /* the separators before the token */
            if (i >= n) break;
            if (s[i] < 0x80) {
                if (!ascii_separator[s[i]]) break;
                i++;
            } else {
                if (!is_separator(decode(s, i, &step))) break;
                i += step;
            }
        }
        if (i >= n) break;
        size_t start = i;
        for (;;) {
            i = plain_run_end(s, i, n);
            if (i >= n) break;
            if (s[i] < 0x80) { /* an ASCII control character or space: a table's answer */
                if (ascii_separator[s[i]]) break;
                i++;
            } else {
                if (is_separator(decode(s, i, &step))) break;
                i += step;
            }
        }
        size_t len = i - start;
        const char *token = text + start;
        uint32_t hash = token_hash(token, len);
        FrontEntry *entry = len <= FRONT_KEY ? &m->front[(hash * 2654435761u) >> (32 - FRONT_BITS)] : NULL;
        if (entry != NULL && entry->hash == hash && entry->key_len == len && same_short(entry->key, token, len)) {
            if (grow((void **)&m->line_ids, &m->line_cap, line_len + FRONT_IDS, sizeof(int32_t)) < 0) return NULL;
            memcpy(m->line_ids + line_len, entry->ids, sizeof(entry->ids)); /* all FRONT_IDS: a fixed-size copy, no call */
            line_len += entry->n_ids;
            continue;  /* "</s>" (4 bytes, one id) is never taken: see below */
        }
        size_t before = line_len;
        if (token_ids(m, token, len, hash, &line_len) < 0) return NULL;
        int eos = len == 4 && memcmp(token, "</s>", 4) == 0;
        if (entry != NULL && line_len - before <= FRONT_IDS && !eos) {
            entry->hash = hash;
            entry->key_len = (uint8_t)len;
            entry->n_ids = (uint8_t)(line_len - before);
            memcpy(entry->key, token, len);
            memcpy(entry->ids, m->line_ids + before, (line_len - before) * sizeof(int32_t));
        }
        if (eos) ended = 1;
    }
    if (!ended) { /* the line end fastText reads as "</s>" */
        if (grow((void **)&m->line_ids, &m->line_cap, line_len + 1, sizeof(int32_t)) < 0) return NULL;
        m->line_ids[line_len++] = m->eos_id;
    }
    if (line_len == 0) Py_RETURN_NONE;
    float *hidden = m->hidden;
    if (m->dim == HIDDEN_DIM) {
        /* lid.176's width: the sums kept in registers (not stored and reloaded through m->hidden
         * at every row), each row's line fetched PREFETCH_AHEAD rows early (its id is known: the
         * rows are spread over the input matrix). Each component adds the same floats in the
         * same order as the loop below, so the sums are bit for bit the same. */
        float sum[HIDDEN_DIM] = {0.0f};
        const int32_t *ids = m->line_ids;
        for (size_t t = 0; t < line_len; t++) {
            if (t + PREFETCH_AHEAD < line_len) __builtin_prefetch(m->rows + (size_t)ids[t + PREFETCH_AHEAD] * HIDDEN_DIM);
            const float *row = m->rows + (size_t)ids[t] * HIDDEN_DIM;
            for (int32_t j = 0; j < HIDDEN_DIM; j++) sum[j] += row[j];
        }
        for (int32_t j = 0; j < HIDDEN_DIM; j++) hidden[j] = sum[j];
    } else {
        for (int32_t j = 0; j < m->dim; j++) hidden[j] = 0.0f;
        for (size_t t = 0; t < line_len; t++) {
            const float *row = m->rows + (size_t)m->line_ids[t] * m->dim;
            for (int32_t j = 0; j < m->dim; j++) hidden[j] += row[j];
        }
    }
    float scale = (float)(1.0 / (double)line_len);
    for (int32_t j = 0; j < m->dim; j++) hidden[j] *= scale;

    float best = 0.0f;
    int32_t label = -1;
    float threshold_log = std_log(0.0f);
    dfs(m, threshold_log, 2 * m->osz - 2, 0.0f, &best, &label);
    if (label < 0) Py_RETURN_NONE;
    return Py_BuildValue("(if)", label, (double)expf(best));
}

static PyObject *Model_cache_size(Model *m, PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromSize_t(m->n_records - m->n_permanent);
}

static void Model_dealloc(Model *m) {
    Py_XDECREF(m->rows_owner); free(m->output); free(m->left); free(m->right);
    free(m->prune); free(m->kept); free(m->records); free(m->slots);
    free(m->keys); free(m->ids); free(m->line_ids); free(m->hidden); free(m->front_block);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static void *copy_buffer(PyObject *bytes, size_t item, size_t expected, const char *what) {
    if (!PyBytes_Check(bytes) || (size_t)PyBytes_GET_SIZE(bytes) != expected * item) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zu bytes", what, expected * item);
        return NULL;
    }
    void *p = malloc(expected * item + 1);
    if (!p) return PyErr_NoMemory();
    memcpy(p, PyBytes_AS_STRING(bytes), expected * item);
    return p;
}

static int Model_init(Model *m, PyObject *args, PyObject *kwds) {
    PyObject *entries, *is_label, *prune_keys, *prune_values, *rows, *output, *left, *right;
    long long pruneidx_size;
    Py_ssize_t max_cached = CACHE_MAX_RECORDS;
    if (m->rows) {
        PyErr_SetString(PyExc_RuntimeError, "Model is already initialised");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O!SSSSSSS(iiiiiLii)|n", &PyList_Type, &entries, &is_label, &prune_keys, &prune_values, &rows, &output, &left,
                          &right, &m->dim, &m->minn, &m->maxn, &m->bucket, &m->nwords, &pruneidx_size, &m->loss, &m->osz, &max_cached))
        return -1;
    if (max_cached < 0 || max_cached > CACHE_MAX_RECORDS) {
        PyErr_SetString(PyExc_ValueError, "max_cached: 0 to 524288 tokens");
        return -1;
    }
    m->max_cached = (size_t)max_cached;
    m->pruneidx_size = pruneidx_size;
    if (m->dim <= 0 || m->osz <= 0 || m->bucket <= 0 || m->loss != 1) {
        PyErr_SetString(PyExc_ValueError, "unsupported fastText model parameters");
        return -1;
    }
    m->bucket_magic = UINT64_MAX / (uint64_t)m->bucket + 1;
    Py_ssize_t n_entries = PyList_GET_SIZE(entries);
    if (PyBytes_GET_SIZE(is_label) != n_entries) {
        PyErr_SetString(PyExc_ValueError, "is_label: one byte per entry");
        return -1;
    }
    m->n_rows = PyBytes_GET_SIZE(rows) / (Py_ssize_t)(sizeof(float) * m->dim);
    if ((size_t)PyBytes_GET_SIZE(rows) != (size_t)m->n_rows * sizeof(float) * m->dim) {
        PyErr_SetString(PyExc_ValueError, "rows: a whole number of rows of dim floats");
        return -1;
    }
    /* bytes are immutable: the rows are read in place (a copy cost ~2 ms and 800 page faults) */
    Py_INCREF(rows);
    m->rows_owner = rows;
    m->rows = (float *)PyBytes_AS_STRING(rows);
    if (!(m->output = copy_buffer(output, sizeof(float) * m->dim, (size_t)m->osz, "output"))) return -1;
    size_t tree = (size_t)(2 * m->osz - 1);
    if (!(m->left = copy_buffer(left, sizeof(int32_t), tree, "left"))) return -1;
    if (!(m->right = copy_buffer(right, sizeof(int32_t), tree, "right"))) return -1;
    /* one cache line an entry: calloc'd (all empty) with room to align the first */
    free(m->front_block);
    if (!(m->front_block = calloc(((size_t)1 << FRONT_BITS) + 1, sizeof(FrontEntry)))) {
        PyErr_NoMemory();
        return -1;
    }
    m->front = (FrontEntry *)(((uintptr_t)m->front_block + 63) & ~(uintptr_t)63);
    if (!(m->hidden = malloc(sizeof(float) * m->dim))) {
        PyErr_NoMemory();
        return -1;
    }
    /* pruneidx */
    size_t n_prune = (size_t)PyBytes_GET_SIZE(prune_keys) / sizeof(int32_t), prune_size = 16;
    while (prune_size < n_prune * 2) prune_size <<= 1;
    m->prune_mask = prune_size - 1;
    m->prune = malloc(prune_size * sizeof(*m->prune));
    m->kept = m->pruneidx_size > 0 ? calloc(((size_t)m->bucket + 63) / 64, sizeof(uint64_t)) : NULL;
    if (!m->prune || (m->pruneidx_size > 0 && !m->kept)) {
        PyErr_NoMemory();
        return -1;
    }
    memset(m->prune, 0xff, prune_size * sizeof(*m->prune));
    const int32_t *keys = (const int32_t *)PyBytes_AS_STRING(prune_keys), *values = (const int32_t *)PyBytes_AS_STRING(prune_values);
    for (size_t k = 0; k < n_prune; k++) {
        size_t s = ((uint32_t)keys[k] * 2654435761u) & m->prune_mask;
        while (m->prune[s][0] != -1 && m->prune[s][0] != keys[k]) s = (s + 1) & m->prune_mask;
        m->prune[s][0] = keys[k];
        m->prune[s][1] = values[k];
        /* a key outside 0..bucket-1 is never asked for (push_hash's ids are hash % bucket) */
        if (m->kept && keys[k] >= 0 && keys[k] < m->bucket) m->kept[(uint32_t)keys[k] >> 6] |= (uint64_t)1 << ((uint32_t)keys[k] & 63);
        if (values[k] < 0 || (int64_t)m->nwords + values[k] >= m->n_rows) {
            PyErr_SetString(PyExc_ValueError, "a pruned n-gram's row beyond the input matrix");
            return -1;
        }
    }
    if (m->pruneidx_size < 0 && (int64_t)m->nwords + m->bucket > m->n_rows) {
        PyErr_SetString(PyExc_ValueError, "the input matrix has fewer rows than words and buckets");
        return -1;
    }
    /* the slots: the dictionary at a quarter load to start with (index_records) */
    size_t slots = 16;
    while (slots < (size_t)n_entries * 4) slots <<= 1;
    if (index_records(m, slots) < 0) return -1;
    /* the dictionary: a word's ids are its own and its n-grams' (fastText's initNgrams; "</s>"
     * has no n-grams); a label contributes nothing */
    m->eos_id = -1;
    const char *labels = PyBytes_AS_STRING(is_label);
    for (Py_ssize_t e = 0; e < n_entries; e++) {
        PyObject *word = PyList_GET_ITEM(entries, e);
        if (!PyBytes_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "entries must be bytes");
            return -1;
        }
        const char *w = PyBytes_AS_STRING(word);
        size_t len = (size_t)PyBytes_GET_SIZE(word);
        uint32_t hash = token_hash(w, len);
        int32_t r;
        int slot = find_slot(m, w, len, hash, &r);
        if (r >= 0) continue; /* a duplicate entry: fastText's find() returns the first */
        size_t ids_off = m->ids_len;
        int eos = len == 4 && memcmp(w, "</s>", 4) == 0;
        if (!labels[e] && e < m->nwords) {
            if (push_id(m, (int32_t)e) < 0) return -1;
            if (eos) m->eos_id = (int32_t)e;
            else if (m->maxn > 0 && compute_subwords(m, w, len) < 0) return -1;
        }
        if (add_record(m, w, len, hash, ids_off, (size_t)slot) < 0) return -1;
    }
    if (m->eos_id < 0) {
        PyErr_SetString(PyExc_ValueError, "the model's dictionary has no </s>");
        return -1;
    }
    for (size_t t = 0; t < m->ids_len; t++) {
        if (m->ids[t] < 0 || m->ids[t] >= m->n_rows) {
            PyErr_SetString(PyExc_ValueError, "a row id beyond the input matrix");
            return -1;
        }
    }
    m->n_permanent = m->n_records;
    m->keys_permanent = m->keys_len;
    m->ids_permanent = m->ids_len;
    return 0;
}

static PyMethodDef Model_methods[] = {
    {"predict", (PyCFunction)Model_predict, METH_O, "predict(text) -> (label index, probability) or None"},
    {"cache_size", (PyCFunction)Model_cache_size, METH_NOARGS, "tokens held in the cache beyond the dictionary"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tamis._native._fasttext.Model",
    .tp_basicsize = sizeof(Model),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Model_init,
    .tp_dealloc = (destructor)Model_dealloc,
    .tp_methods = Model_methods,
    .tp_doc = "fastText supervised predict (k = 1) with a per-token cache",
};

static PyObject *is_separator_py(PyObject *Py_UNUSED(self), PyObject *arg) {
    long c = PyLong_AsLong(arg);
    if (c == -1 && PyErr_Occurred()) return NULL;
    return PyBool_FromLong(is_separator((uint32_t)c));
}

/* dequantize(codes, centroids, norm_codes, norm_centroids, m, nsubq, dsub, lastdsub) -> bytes
 * fastText's QuantMatrix as addRowToVector adds it, every row at once: row i's part for
 * sub-quantizer j is alpha_i * centroid (float products, as fastText's x += alpha * c[n]), where
 * the centroid is the one codes[i * nsubq + j] names and alpha_i is norm_centroids[norm_codes[i]]
 * (1 without norm_codes: qnorm false). The last sub-quantizer's centroids are lastdsub wide.
 * codes: m * nsubq bytes; centroids: float32 (native order), 256 per sub-quantizer;
 * norm_codes: m bytes or None; norm_centroids: 256 float32 or None. The rows come back as
 * float32 bytes, m x (dsub * (nsubq - 1) + lastdsub): what tamis/steps/fasttext_model.py's
 * _quantized_rows computes with numpy (tests/test_language.py compares them), without numpy's
 * import or its temporaries on every run's start. */
static PyObject *dequantize_py(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer codes, centroids;
    PyObject *norm_codes_obj, *norm_centroids_obj;
    Py_ssize_t m, nsubq, dsub, lastdsub;
    if (!PyArg_ParseTuple(args, "y*y*OOnnnn", &codes, &centroids, &norm_codes_obj, &norm_centroids_obj, &m, &nsubq, &dsub, &lastdsub))
        return NULL;
    PyObject *result = NULL;
    Py_buffer norm_codes = {0}, norm_centroids = {0};
    int qnorm = norm_codes_obj != Py_None;
    if (qnorm && (PyObject_GetBuffer(norm_codes_obj, &norm_codes, PyBUF_SIMPLE) < 0 ||
                  PyObject_GetBuffer(norm_centroids_obj, &norm_centroids, PyBUF_SIMPLE) < 0))
        goto done;
    const Py_ssize_t ksub = 256, full = nsubq - 1;
    if (m < 0 || nsubq < 1 || dsub < 1 || lastdsub < 1 || dsub > (1 << 20) || lastdsub > (1 << 20) || nsubq > (1 << 20) ||
        codes.len != m * nsubq || centroids.len < (Py_ssize_t)sizeof(float) * ksub * (full * dsub + lastdsub) ||
        (qnorm && (norm_codes.len != m || norm_centroids.len < (Py_ssize_t)sizeof(float) * ksub))) {
        PyErr_SetString(PyExc_ValueError, "dequantize: sizes that do not fit the codes and centroids");
        goto done;
    }
    const Py_ssize_t n = full * dsub + lastdsub;
    result = PyBytes_FromStringAndSize(NULL, m * n * (Py_ssize_t)sizeof(float));
    if (!result) goto done;
    float *out = (float *)PyBytes_AS_STRING(result);
    const uint8_t *code = (const uint8_t *)codes.buf, *norm_code = qnorm ? (const uint8_t *)norm_codes.buf : NULL;
    const float *cent = (const float *)centroids.buf, *norm_cent = qnorm ? (const float *)norm_centroids.buf : NULL;
    const float *last = cent + full * ksub * dsub;
    if (dsub == 2 && lastdsub == 2) {
        /* fastText's default (quantize's dsub 2, lid.176's): the same products, two a code,
         * without the inner loops' bookkeeping (~18 instructions a value, a quarter of the load) */
        for (Py_ssize_t i = 0; i < m; i++, code += nsubq) {
            const float alpha = qnorm ? norm_cent[norm_code[i]] : 1.0f;
            for (Py_ssize_t j = 0; j <= full; j++, out += 2) {
                const float *c = cent + (j * ksub + code[j]) * 2;
                out[0] = alpha * c[0];
                out[1] = alpha * c[1];
            }
        }
        goto done;
    }
    for (Py_ssize_t i = 0; i < m; i++, out += n, code += nsubq) {
        const float alpha = qnorm ? norm_cent[norm_code[i]] : 1.0f;
        for (Py_ssize_t j = 0; j < full; j++) {
            const float *c = cent + (j * ksub + code[j]) * dsub;
            for (Py_ssize_t k = 0; k < dsub; k++) out[j * dsub + k] = alpha * c[k];
        }
        const float *c = last + code[full] * lastdsub;
        for (Py_ssize_t k = 0; k < lastdsub; k++) out[full * dsub + k] = alpha * c[k];
    }
done:
    PyBuffer_Release(&codes);
    PyBuffer_Release(&centroids);
    if (norm_codes.obj) PyBuffer_Release(&norm_codes);
    if (norm_centroids.obj) PyBuffer_Release(&norm_centroids);
    return result;
}

/* dictionary(data, offset, size) -> (entries, counts, is_label, end)
 * fastText's Dictionary::load from offset: size entries, each its word's bytes, a NUL, an
 * int64 count and an int8 type (1: a label), little-endian. entries: list of bytes; counts:
 * list of int; is_label: bytes, 1 per entry; end: the offset after the last entry. What
 * tamis/steps/fasttext_model.py's _dictionary reads in Python (tests/test_language.py compares
 * them): its loop was ~half of lid.176's load (7,411 entries, ~1 us each). ValueError for data
 * cut short. */
static PyObject *dictionary_py(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer data;
    Py_ssize_t offset, size;
    if (!PyArg_ParseTuple(args, "y*nn", &data, &offset, &size)) return NULL;
    PyObject *entries = NULL, *counts = NULL, *is_label = NULL, *result = NULL;
    if (offset < 0 || offset > data.len || size < 0 || size > data.len) {
        PyErr_SetString(PyExc_ValueError, "a fastText model file cut short");
        goto done;
    }
    entries = PyList_New(size);
    counts = PyList_New(size);
    is_label = PyBytes_FromStringAndSize(NULL, size);
    if (!entries || !counts || !is_label) goto done;
    const char *buf = (const char *)data.buf;
    char *labels = PyBytes_AS_STRING(is_label);
    Py_ssize_t at = offset;
    for (Py_ssize_t e = 0; e < size; e++) {
        const char *end = memchr(buf + at, 0, (size_t)(data.len - at));
        if (end == NULL || data.len - (end - buf) < 10) {
            PyErr_SetString(PyExc_ValueError, "a fastText model file cut short");
            goto done;
        }
        PyObject *word = PyBytes_FromStringAndSize(buf + at, end - (buf + at));
        if (!word) goto done;
        PyList_SET_ITEM(entries, e, word);
        int64_t count = (int64_t)read64(end + 1);
        PyObject *number = PyLong_FromLongLong((long long)count);
        if (!number) goto done;
        PyList_SET_ITEM(counts, e, number);
        labels[e] = (char)(end[9] == 1);
        at = (end - buf) + 10;
    }
    result = Py_BuildValue("(OOOn)", entries, counts, is_label, at);
done:
    Py_XDECREF(entries);
    Py_XDECREF(counts);
    Py_XDECREF(is_label);
    PyBuffer_Release(&data);
    return result;
}

static PyObject *token_hash_py(PyObject *Py_UNUSED(self), PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "token_hash() takes bytes");
        return NULL;
    }
    return PyLong_FromUnsignedLong(token_hash(PyBytes_AS_STRING(arg), (size_t)PyBytes_GET_SIZE(arg)));
}

static PyMethodDef module_methods[] = {
    {"is_separator", is_separator_py, METH_O, "is_separator(code point) -> whether predict splits there"},
    {"token_hash", token_hash_py, METH_O, "token_hash(bytes) -> where the caches place a token (tests build collisions with it)"},
    {"dictionary", dictionary_py, METH_VARARGS, "dictionary(data, offset, size) -> (entries, counts, is_label bytes, end offset)"},
    {"dequantize", dequantize_py, METH_VARARGS, "dequantize(codes, centroids, norm_codes, norm_centroids, m, nsubq, dsub, lastdsub) -> float32 rows"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fasttext", "fastText predict, compiled, with a per-token cache", -1, module_methods};

PyMODINIT_FUNC PyInit__fasttext(void) {
    for (uint32_t c = 0; c < 128; c++) ascii_separator[c] = (uint8_t)is_separator(c);
    if (PyType_Ready(&ModelType) < 0) return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (!mod) return NULL;
    Py_INCREF(&ModelType);
    if (PyModule_AddObject(mod, "Model", (PyObject *)&ModelType) < 0) {
        Py_DECREF(&ModelType);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
