/* Compiled hot path of the exact-substring stage (tamis.dedup.substring).
 *
 * Every function has a plain-Python twin in tamis/dedup/substring_reference.py; the tests
 * check that both give identical results on random and real text. Keep the two in step.
 *
 * Text layout: a shard is the UTF-8 of its documents, each followed by one 0xFF byte (a byte
 * valid UTF-8 never contains), so no k-gram that lies inside a document contains 0xFF and no
 * match can cross a document boundary.
 *
 *   winnow(text, q, w)            anchors: for every window of w consecutive q-grams, the
 *                                 position of the q-gram with the smallest hash (rightmost on
 *                                 ties). A k-gram (k = q + w - 1) holds exactly one window, so
 *                                 every copy of it selects the same anchor at the same offset.
 *                                 Returns (hashes u64[], positions u64[]) in position order.
 *   mark_groups(text, sa, k, flags[, boundary])
 *                                 walks the suffix array: a group is a run of suffixes whose
 *                                 first k bytes are equal (and hold no 0xFF). Its smallest
 *                                 position is the first occurrence: flags |= 2 there; every
 *                                 other member gets flags |= 1 (seen earlier). With a boundary,
 *                                 a first occurrence before it whose group has a member at or
 *                                 after it also gets flags |= 4 (the first copy of a k-gram
 *                                 that the text from the boundary on repeats).
 *   cover(flags, k, lo, hi)       merged byte ranges [p, p + k) of positions p in [lo, hi)
 *                                 with flags & 1, as int64 pairs (absolute positions).
 *   group_bounds(text, sa, pos, k)
 *                                 [lo, hi) of the suffix-array rows whose first k bytes equal
 *                                 text[pos:pos + k] (binary search).
 *   flagged_ranges(flags, mask, want, starts, ends)
 *                                 for each range i, whether some p in [starts[i], ends[i]) has
 *                                 (flags[p] & mask) == want; returns the indices of those ranges.
 *   first_flagged(flags, bit, starts, ends)
 *                                 for each range, the first p with flags[p] & bit, or -1.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEPARATOR 0xFF
#define HASH_BASE 0x100000001b3ULL
#define INVALID UINT64_MAX

static inline uint64_t mix64(uint64_t z) {
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z;
}

typedef struct {
    char *data;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buf;

static int buf_push(Buf *b, const void *item, Py_ssize_t size) {
    if (b->len + size > b->cap) {
        Py_ssize_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + size) cap *= 2;
        char *grown = realloc(b->data, (size_t)cap);
        if (!grown) return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, item, (size_t)size);
    b->len += size;
    return 0;
}

static PyObject *buf_to_bytes(Buf *b) {
    PyObject *out = PyBytes_FromStringAndSize(b->data ? b->data : "", b->len);
    free(b->data);
    b->data = NULL;
    return out;
}

static inline int64_t sa_at(const void *sa, int width, Py_ssize_t i) {
    return width == 4 ? (int64_t)((const int32_t *)sa)[i] : ((const int64_t *)sa)[i];
}

/* ------------------------------------------------------------------ winnow */

static PyObject *py_winnow(PyObject *self, PyObject *args) {
    Py_buffer tb;
    Py_ssize_t q, w;
    if (!PyArg_ParseTuple(args, "y*nn", &tb, &q, &w)) return NULL;
    if (q < 1 || w < 1) {
        PyBuffer_Release(&tb);
        PyErr_SetString(PyExc_ValueError, "q and w must be >= 1");
        return NULL;
    }
    const uint8_t *t = tb.buf;
    Py_ssize_t n = tb.len;
    Py_ssize_t nq = n >= q ? n - q + 1 : 0;
    Buf hashes = {0}, positions = {0};
    uint64_t *dq_hash = NULL;
    Py_ssize_t *dq_pos = NULL;
    int failed = 0;
    if (nq >= w) {
        dq_hash = malloc(sizeof(uint64_t) * (size_t)(w + 1));
        dq_pos = malloc(sizeof(Py_ssize_t) * (size_t)(w + 1));
        if (!dq_hash || !dq_pos) failed = 1;
    }
    if (!failed && nq >= w) {
        Py_BEGIN_ALLOW_THREADS
        uint64_t power = 1; /* HASH_BASE^(q-1) */
        for (Py_ssize_t i = 1; i < q; i++) power *= HASH_BASE;
        uint64_t h = 0;
        Py_ssize_t last_sep = -1; /* last position of a 0xFF byte seen */
        for (Py_ssize_t i = 0; i < q; i++) {
            h = h * HASH_BASE + t[i];
            if (t[i] == SEPARATOR) last_sep = i;
        }
        /* ring-buffer deque of (hash, pos), increasing hashes from head to tail */
        Py_ssize_t head = 0, size = 0, cap = w + 1;
        Py_ssize_t last_emitted = -1;
        for (Py_ssize_t i = 0; i < nq; i++) {
            if (i > 0) {
                h = (h - power * t[i - 1]) * HASH_BASE + t[i + q - 1];
                if (t[i + q - 1] == SEPARATOR) last_sep = i + q - 1;
            }
            uint64_t v = last_sep >= i ? INVALID : mix64(h);
            if (v == INVALID && last_sep < i) v = INVALID - 1;
            /* pop from the tail while >= v: the rightmost minimum wins ties */
            while (size > 0) {
                Py_ssize_t tail = (head + size - 1) % cap;
                if (dq_hash[tail] >= v) size--;
                else break;
            }
            Py_ssize_t slot = (head + size) % cap;
            dq_hash[slot] = v;
            dq_pos[slot] = i;
            size++;
            /* drop the head once it leaves the window [i - w + 1, i] */
            while (dq_pos[head] <= i - w) {
                head = (head + 1) % cap;
                size--;
            }
            if (i >= w - 1 && dq_hash[head] != INVALID && dq_pos[head] != last_emitted) {
                uint64_t pos = (uint64_t)dq_pos[head];
                if (buf_push(&hashes, &dq_hash[head], 8) || buf_push(&positions, &pos, 8)) {
                    failed = 1;
                    break;
                }
                last_emitted = dq_pos[head];
            }
        }
        Py_END_ALLOW_THREADS
    }
    free(dq_hash);
    free(dq_pos);
    PyBuffer_Release(&tb);
    if (failed) {
        free(hashes.data);
        free(positions.data);
        return PyErr_NoMemory();
    }
    PyObject *hb = buf_to_bytes(&hashes);
    PyObject *pb = buf_to_bytes(&positions);
    if (!hb || !pb) {
        Py_XDECREF(hb);
        Py_XDECREF(pb);
        return NULL;
    }
    return Py_BuildValue("(NN)", hb, pb);
}

/* ------------------------------------------------------------------ mark_groups */

static int sa_width(Py_buffer *sb, Py_ssize_t n) {
    /* from the byte length: a buffer taken with y* need not report its item size */
    if (n > 0 && sb->len == n * 4) return 4;
    if (n > 0 && sb->len == n * 8) return 8;
    return 0;
}

static PyObject *py_mark_groups(PyObject *self, PyObject *args) {
    Py_buffer tb, sb, fb;
    Py_ssize_t k;
    Py_ssize_t boundary = -1;
    if (!PyArg_ParseTuple(args, "y*y*nw*|n", &tb, &sb, &k, &fb, &boundary)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = tb.len;
    int width = sa_width(&sb, n);
    if (!width || fb.len != n || k < 1) {
        PyErr_SetString(PyExc_ValueError, "mark_groups: sa must be int32/int64 of len(text), flags uint8 of len(text), k >= 1");
        goto done;
    }
    const uint8_t *t = tb.buf;
    const void *sa = sb.buf;
    uint8_t *flags = fb.buf;
    Py_ssize_t groups = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t i = 0;
    while (i < n) {
        int64_t p = sa_at(sa, width, i);
        if (p + k > n) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < n) {
            /* the suffixes are scattered over the text: ask for the next ones early */
            if (j + 8 < n) __builtin_prefetch(t + sa_at(sa, width, j + 8));
            int64_t p2 = sa_at(sa, width, j);
            if (p2 + k <= n && memcmp(t + p, t + p2, (size_t)k) == 0) j++;
            else break;
        }
        if (j - i >= 2 && memchr(t + p, SEPARATOR, (size_t)k) == NULL) {
            int64_t first = p, last = p;
            for (Py_ssize_t m = i + 1; m < j; m++) {
                int64_t pm = sa_at(sa, width, m);
                if (pm < first) first = pm;
                if (pm > last) last = pm;
            }
            for (Py_ssize_t m = i; m < j; m++) {
                int64_t pm = sa_at(sa, width, m);
                flags[pm] |= (pm == first) ? 2 : 1;
            }
            if (boundary >= 0 && first < boundary && last >= boundary) flags[first] |= 4;
            groups++;
        }
        i = j;
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(groups);
done:
    PyBuffer_Release(&tb);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&fb);
    return result;
}

/* ------------------------------------------------------------------ cover */

static PyObject *py_cover(PyObject *self, PyObject *args) {
    Py_buffer fb;
    Py_ssize_t k, lo, hi;
    if (!PyArg_ParseTuple(args, "y*nnn", &fb, &k, &lo, &hi)) return NULL;
    if (lo < 0 || hi > fb.len || lo > hi || k < 1) {
        PyBuffer_Release(&fb);
        PyErr_SetString(PyExc_ValueError, "cover: bad range");
        return NULL;
    }
    const uint8_t *flags = fb.buf;
    Buf out = {0};
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    int64_t start = -1, end = -1;
    for (Py_ssize_t p = lo; p < hi; p++) {
        if (!(flags[p] & 1)) continue;
        if (start >= 0 && p <= end) {
            if (p + k > end) end = p + k;
            continue;
        }
        if (start >= 0 && (buf_push(&out, &start, 8) || buf_push(&out, &end, 8))) {
            failed = 1;
            break;
        }
        start = p;
        end = p + k;
    }
    if (!failed && start >= 0 && (buf_push(&out, &start, 8) || buf_push(&out, &end, 8))) failed = 1;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&fb);
    if (failed) {
        free(out.data);
        return PyErr_NoMemory();
    }
    return buf_to_bytes(&out);
}

/* ------------------------------------------------------------------ group_bounds */

/* compare the first k bytes of the suffix at p (shorter suffixes sort first) with key */
static inline int cmp_prefix(const uint8_t *t, Py_ssize_t n, int64_t p, const uint8_t *key, Py_ssize_t k) {
    Py_ssize_t avail = n - p;
    Py_ssize_t len = avail < k ? avail : k;
    int c = memcmp(t + p, key, (size_t)len);
    if (c != 0) return c;
    return len < k ? -1 : 0;
}

static PyObject *py_group_bounds(PyObject *self, PyObject *args) {
    Py_buffer tb, sb;
    Py_ssize_t pos, k;
    if (!PyArg_ParseTuple(args, "y*y*nn", &tb, &sb, &pos, &k)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = tb.len;
    int width = sa_width(&sb, n);
    if (!width || pos < 0 || k < 1 || pos + k > n) {
        PyErr_SetString(PyExc_ValueError, "group_bounds: bad arguments");
        goto done;
    }
    const uint8_t *t = tb.buf;
    const uint8_t *key = t + pos;
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) { /* first row >= key */
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (cmp_prefix(t, n, sa_at(sb.buf, width, mid), key, k) < 0) lo = mid + 1;
        else hi = mid;
    }
    Py_ssize_t first = lo;
    hi = n;
    while (lo < hi) { /* first row > key */
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (cmp_prefix(t, n, sa_at(sb.buf, width, mid), key, k) <= 0) lo = mid + 1;
        else hi = mid;
    }
    result = Py_BuildValue("(nn)", first, lo);
done:
    PyBuffer_Release(&tb);
    PyBuffer_Release(&sb);
    return result;
}

/* ------------------------------------------------------------------ per-range scans */

static int check_ranges(Py_buffer *fb, Py_buffer *sb, Py_buffer *eb) {
    if (sb->len % 8 || sb->len != eb->len) {
        PyErr_SetString(PyExc_ValueError, "starts and ends must be int64 arrays of the same length");
        return -1;
    }
    const int64_t *s = sb->buf, *e = eb->buf;
    Py_ssize_t count = sb->len / 8;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (s[i] < 0 || e[i] < s[i] || e[i] > fb->len) {
            PyErr_SetString(PyExc_ValueError, "range outside flags");
            return -1;
        }
    }
    return 0;
}

static PyObject *py_flagged_ranges(PyObject *self, PyObject *args) {
    Py_buffer fb, sb, eb;
    int mask, want;
    if (!PyArg_ParseTuple(args, "y*iiy*y*", &fb, &mask, &want, &sb, &eb)) return NULL;
    PyObject *result = NULL;
    if (check_ranges(&fb, &sb, &eb) < 0) goto done;
    const uint8_t *flags = fb.buf;
    const int64_t *s = sb.buf, *e = eb.buf;
    Py_ssize_t count = sb.len / 8;
    Buf out = {0};
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count && !failed; i++) {
        for (int64_t p = s[i]; p < e[i]; p++) {
            if ((flags[p] & mask) == want) {
                int64_t idx = i;
                if (buf_push(&out, &idx, 8)) failed = 1;
                break;
            }
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        free(out.data);
        PyErr_NoMemory();
        goto done;
    }
    result = buf_to_bytes(&out);
done:
    PyBuffer_Release(&fb);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&eb);
    return result;
}

static PyObject *py_first_flagged(PyObject *self, PyObject *args) {
    Py_buffer fb, sb, eb;
    int bit;
    if (!PyArg_ParseTuple(args, "y*iy*y*", &fb, &bit, &sb, &eb)) return NULL;
    PyObject *result = NULL;
    if (check_ranges(&fb, &sb, &eb) < 0) goto done;
    const uint8_t *flags = fb.buf;
    const int64_t *s = sb.buf, *e = eb.buf;
    Py_ssize_t count = sb.len / 8;
    result = PyBytes_FromStringAndSize(NULL, count * 8);
    if (!result) goto done;
    int64_t *out = (int64_t *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        out[i] = -1;
        for (int64_t p = s[i]; p < e[i]; p++) {
            if (flags[p] & bit) {
                out[i] = p;
                break;
            }
        }
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&fb);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&eb);
    return result;
}

static PyMethodDef methods[] = {
    {"winnow", py_winnow, METH_VARARGS, "winnow(text, q, w) -> (hashes u64 bytes, positions u64 bytes)"},
    {"mark_groups", py_mark_groups, METH_VARARGS, "mark_groups(text, sa, k, flags[, boundary]) -> number of groups"},
    {"cover", py_cover, METH_VARARGS, "cover(flags, k, lo, hi) -> int64 pairs bytes"},
    {"group_bounds", py_group_bounds, METH_VARARGS, "group_bounds(text, sa, pos, k) -> (lo, hi)"},
    {"flagged_ranges", py_flagged_ranges, METH_VARARGS, "flagged_ranges(flags, mask, want, starts, ends) -> int64 bytes"},
    {"first_flagged", py_first_flagged, METH_VARARGS, "first_flagged(flags, bit, starts, ends) -> int64 bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_substring", "exact-substring dedup hot paths", -1, methods};

PyMODINIT_FUNC PyInit__substring(void) { return PyModule_Create(&module); }
