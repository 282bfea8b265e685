/* The shard notes' per-line split (tamis.io.shardnotes.split_into_reference), compiled.
 *
 * For each output line as tamis writes it ({"id":I,"text":T,"metadata":M[,"reason":R,
 * "detail":D,"duplicate_of":K]}\n) the notes keep I and M (and R, K for rejects) as JSON text.
 * The reference finds M's start with bytes.find over the whole text; here the text string is
 * skipped with memchr for its closing quote (a quote inside a JSON string is always escaped),
 * which is the same first occurrence (see skip_string). Any line laid out otherwise is left to
 * the reference, in its place (split_into stops there).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static const char ID_PREFIX[] = "{\"id\":";
static const char TEXT_KEY[] = ",\"text\":";
static const char METADATA_KEY[] = ",\"metadata\":";
static const char REJECT_TAIL[] = ",\"reason\":";
static const char DETAIL_KEY[] = ",\"detail\":";
static const char KEEPER_KEY[] = ",\"duplicate_of\":";
#define LEN(s) ((Py_ssize_t)(sizeof(s) - 1))

/* First occurrence of needle in s[from:n], or -1 (bytes.find). */
static Py_ssize_t find_from(const char *s, Py_ssize_t n, const char *needle, Py_ssize_t k, Py_ssize_t from) {
    if (from < 0) from = 0;
    if (from + k > n) return -1;
    const char *hit = memmem(s + from, (size_t)(n - from), needle, (size_t)k);
    return hit == NULL ? -1 : (Py_ssize_t)(hit - s);
}

/* Last occurrence of needle in s[0:n], or -1 (bytes.rfind). */
static Py_ssize_t rfind(const char *s, Py_ssize_t n, const char *needle, Py_ssize_t k) {
    for (Py_ssize_t i = n - k; i >= 0; i--) {
        if (s[i] == needle[0] && memcmp(s + i, needle, (size_t)k) == 0) return i;
    }
    return -1;
}

/* Where ,"metadata": can first start after ,"text": at text_at: past the text's string when it
 * is one. Inside a JSON string every quote is escaped (preceded by an odd number of
 * backslashes), so the needle (a comma then a bare quote) cannot start before the closing
 * quote's previous byte. Returns text_at where the text is not a terminated string. */
static Py_ssize_t skip_string(const char *s, Py_ssize_t n, Py_ssize_t text_at) {
    Py_ssize_t open = text_at + LEN(TEXT_KEY);
    if (open >= n || s[open] != '"') return text_at;
    Py_ssize_t i = open + 1;
    while (i < n) {
        const char *q = memchr(s + i, '"', (size_t)(n - i));
        if (q == NULL) return text_at;
        Py_ssize_t at = (Py_ssize_t)(q - s), back = 0;
        while (at - 1 - back > open && s[at - 1 - back] == '\\') back++;
        if ((back & 1) == 0) return at - 1 > text_at ? at - 1 : text_at; /* the closing quote */
        i = at + 1;
    }
    return text_at;
}

/* The spans of one line's id, metadata (and reason, duplicate_of) JSON texts, as
 * split_record and _sliced_reject_values find them; -1 where the line is left to the
 * reference (laid out otherwise). */
static int split_one(const char *s, Py_ssize_t len, int rejects, Py_ssize_t span[8]) {
    span[4] = span[5] = span[6] = span[7] = 0;
    if (len < LEN(ID_PREFIX) || memcmp(s, ID_PREFIX, (size_t)LEN(ID_PREFIX)) != 0) return -1;
    Py_ssize_t text_at = find_from(s, len, TEXT_KEY, LEN(TEXT_KEY), 0);
    if (text_at < 0) return -1;
    Py_ssize_t meta_at = find_from(s, len, METADATA_KEY, LEN(METADATA_KEY), skip_string(s, len, text_at));
    if (meta_at < 0) return -1;
    int closed = len >= 2 && s[len - 2] == '}' && s[len - 1] == '\n';
    Py_ssize_t end, at = -1;
    if (rejects) {
        end = at = rfind(s, len, REJECT_TAIL, LEN(REJECT_TAIL));
    } else if (closed) {
        end = len - 2;
    } else { /* the last byte before trailing ASCII whitespace (bytes.rstrip) */
        Py_ssize_t k = len;
        while (k > 0 && (s[k - 1] == ' ' || (s[k - 1] >= '\t' && s[k - 1] <= '\r'))) k--;
        end = k - 1;
    }
    if (end <= meta_at) return -1;
    span[0] = LEN(ID_PREFIX), span[1] = text_at;
    span[2] = meta_at + LEN(METADATA_KEY), span[3] = end;
    if (rejects) {
        Py_ssize_t detail_at = find_from(s, len, DETAIL_KEY, LEN(DETAIL_KEY), at);
        Py_ssize_t keeper_at = detail_at < 0 ? -1 : find_from(s, len, KEEPER_KEY, LEN(KEEPER_KEY), detail_at);
        Py_ssize_t tail_end = closed ? len - 2 : -1;
        if (!(detail_at > at && keeper_at > detail_at && tail_end > keeper_at)) return -1;
        span[4] = at + LEN(REJECT_TAIL), span[5] = detail_at;
        span[6] = keeper_at + LEN(KEEPER_KEY), span[7] = tail_end;
        if (span[5] <= span[4] || s[span[4]] != '"') return -1;
        Py_ssize_t kl = span[7] - span[6];
        int null = kl == 4 && memcmp(s + span[6], "null", 4) == 0;
        if (!null && (kl < 1 || s[span[6]] != '"')) return -1;
    }
    for (int k = 0; k < 8; k += 2) {
        if (span[k + 1] < span[k]) span[k + 1] = span[k]; /* an empty slice, as Python cuts it */
    }
    return 0;
}

/* The (data, offsets) bytearray pairs of the notes' columns (id, metadata, and for rejects
 * reason, duplicate_of) in bufs; 0, or -1 with an error set. */
static int column_buffers(PyObject *columns, int rejects, PyObject *bufs[8]) {
    int ncol = rejects ? 4 : 2;
    if (PyTuple_GET_SIZE(columns) < 2 * ncol) {
        PyErr_SetString(PyExc_ValueError, "split_into: a (data, offsets) pair of bytearrays per column");
        return -1;
    }
    for (int k = 0; k < 2 * ncol; k++) {
        bufs[k] = PyTuple_GET_ITEM(columns, k);
        if (!PyByteArray_Check(bufs[k])) {
            PyErr_SetString(PyExc_TypeError, "split_into: columns must be bytearrays");
            return -1;
        }
    }
    return 0;
}

/* Splits the lines at[i][0:len[i]] (i < n) in order, up to the first one laid out otherwise,
 * appending each one's slices to the columns; returns how many it split, or -1 (error set). */
static Py_ssize_t split_lines(const char *const *at, const Py_ssize_t *len, Py_ssize_t n, int rejects, PyObject *bufs[8]) {
    int ncol = rejects ? 4 : 2;
    Py_ssize_t *spans = PyMem_Malloc(sizeof(Py_ssize_t) * 8 * (size_t)(n > 0 ? n : 1));
    if (spans == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t count = 0, grow[4] = {0, 0, 0, 0};
    for (; count < n; count++) { /* the spans of the lines split here, and each column's growth */
        Py_ssize_t *span = spans + 8 * count;
        if (split_one(at[count], len[count], rejects, span) < 0) break;
        for (int c = 0; c < ncol; c++) grow[c] += span[2 * c + 1] - span[2 * c];
    }
    for (int c = 0; c < ncol && count > 0; c++) {
        PyObject *data = bufs[2 * c], *offsets = bufs[2 * c + 1];
        Py_ssize_t used = PyByteArray_GET_SIZE(data), olen = PyByteArray_GET_SIZE(offsets);
        if (PyByteArray_Resize(data, used + grow[c]) < 0 || PyByteArray_Resize(offsets, olen + count * (Py_ssize_t)sizeof(int64_t)) < 0) {
            PyMem_Free(spans);
            return -1;
        }
        char *out = PyByteArray_AS_STRING(data);
        char *ends = PyByteArray_AS_STRING(offsets) + olen;
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t a = spans[8 * i + 2 * c], b = spans[8 * i + 2 * c + 1];
            memcpy(out + used, at[i] + a, (size_t)(b - a));
            used += b - a;
            int64_t end = (int64_t)used;
            memcpy(ends + i * (Py_ssize_t)sizeof(int64_t), &end, sizeof(int64_t));
        }
    }
    PyMem_Free(spans);
    return count;
}

/* split_into(lines, start, rejects, columns) -> the index of the first line from `start` on
 * that is not split here (len(lines) when none): the reference notes it, then calls again
 * past it. `columns` holds a (data, offsets) pair of bytearrays per column (id, metadata,
 * and for rejects reason, duplicate_of): each line's slice is appended to data and data's
 * new length to offsets as a native int64 (Arrow's offsets, widened), so no object is made
 * per line. */
static PyObject *split_into(PyObject *self, PyObject *args) {
    PyObject *lines, *columns, *bufs[8];
    Py_ssize_t start;
    int rejects;
    if (!PyArg_ParseTuple(args, "O!npO!", &PyList_Type, &lines, &start, &rejects, &PyTuple_Type, &columns)) return NULL;
    if (column_buffers(columns, rejects, bufs) < 0) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(lines);
    if (start < 0) start = 0;
    if (start >= n) return PyLong_FromSsize_t(n);
    const char **at = PyMem_Malloc(sizeof(char *) * (size_t)(n - start));
    Py_ssize_t *len = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n - start)), m = 0;
    if (at == NULL || len == NULL) {
        PyMem_Free(at);
        PyMem_Free(len);
        return PyErr_NoMemory();
    }
    for (; start + m < n; m++) { /* up to the first item that is not bytes */
        PyObject *item = PyList_GET_ITEM(lines, start + m);
        if (!PyBytes_Check(item)) break;
        at[m] = PyBytes_AS_STRING(item);
        len[m] = PyBytes_GET_SIZE(item);
    }
    Py_ssize_t count = split_lines(at, len, m, rejects, bufs);
    PyMem_Free(at);
    PyMem_Free(len);
    return count < 0 ? NULL : PyLong_FromSsize_t(start + count);
}

/* split_joined_into(joined, ends, first, stop, rejects, columns) -> as split_into, for lines
 * first..stop-1 of one bytes-like ``joined`` holding lines end to end: line i ends at
 * ends[i] (native int64; it starts at ends[i - 1], the first at 0). */
static PyObject *split_joined_into(PyObject *self, PyObject *args) {
    Py_buffer joined, ends_view;
    PyObject *columns, *bufs[8], *result = NULL;
    Py_ssize_t first, stop;
    int rejects;
    if (!PyArg_ParseTuple(args, "y*y*nnpO!", &joined, &ends_view, &first, &stop, &rejects, &PyTuple_Type, &columns)) return NULL;
    const int64_t *ends = (const int64_t *)ends_view.buf;
    Py_ssize_t n = ends_view.len / (Py_ssize_t)sizeof(int64_t), m = 0;
    const char **at = NULL;
    Py_ssize_t *len = NULL;
    if (column_buffers(columns, rejects, bufs) < 0) goto done;
    if (first < 0 || stop > n || first > stop) {
        PyErr_SetString(PyExc_ValueError, "split_joined_into: lines out of range");
        goto done;
    }
    at = PyMem_Malloc(sizeof(char *) * (size_t)(stop - first + 1));
    len = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(stop - first + 1));
    if (at == NULL || len == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = first; i < stop; i++, m++) {
        int64_t a = i ? ends[i - 1] : 0, b = ends[i];
        if (a < 0 || b < a || b > joined.len) {
            PyErr_SetString(PyExc_ValueError, "split_joined_into: a line's end outside the buffer");
            goto done;
        }
        at[m] = (const char *)joined.buf + a;
        len[m] = (Py_ssize_t)(b - a);
    }
    Py_ssize_t count = split_lines(at, len, m, rejects, bufs);
    if (count >= 0) result = PyLong_FromSsize_t(first + count);
done:
    PyMem_Free(at);
    PyMem_Free(len);
    PyBuffer_Release(&joined);
    PyBuffer_Release(&ends_view);
    return result;
}

/* ------------------------------------------------------------------ metadata shapes
 *
 * The card's schema of a JSON-lines shard is what Arrow's JSON reader infers from the
 * records' metadata objects. Every record's metadata differs (its source line, its signal
 * values), so the notes used to hand Arrow all of them, shard after shard (~7 % of a one-pass
 * exact dedup), and then tamis.io.jsontypes all distinct ones (~45 ms for the recipe's 1,052
 * rejects: nearly every one had its own floats). Only a value's type matters, so each value
 * whose type does not depend on its text is written as one text of that type, its "shape":
 * - an integer of at most 18 digits (a minus sign allowed): Arrow infers int64 whatever its
 *   value; written 0;
 * - a JSON number with a fraction or an exponent (strict grammar, at most 18 integer digits,
 *   an exponent of at most 2 digits: finite in a double): double; written 0.0;
 * - a string that is a value, not a key (no ':' follows it), holding no escape, no control
 *   byte, only valid UTF-8 (no surrogate) and not opening with four ASCII digits (Arrow may
 *   read those as a timestamp, tamis.io.jsontypes declines them): string; written "".
 * Keys, other strings and numbers are kept whole (their text decides). The schema is then
 * inferred from the distinct shapes, a handful per shard. metadata_shapes_reference in
 * tamis/io/shardnotes.py is the plain version. */

/* Length of the valid UTF-8 sequence at s[i:n] (strict, as Python decodes it: no overlong
 * form, no surrogate, nothing past U+10FFFF), or 0. */
static Py_ssize_t utf8_length(const unsigned char *s, Py_ssize_t i, Py_ssize_t n) {
    unsigned char c = s[i];
    Py_ssize_t k;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (i + k > n || s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (Py_ssize_t m = 2; m < k; m++)
        if (s[i + m] < 0x80 || s[i + m] > 0xBF) return 0;
    return k;
}

/* Whether the string s[open:close] (quotes excluded) is a plain string value as above. */
static int plain_string(const char *s, Py_ssize_t open, Py_ssize_t close) {
    const unsigned char *u = (const unsigned char *)s;
    if (close - open >= 4 && u[open] >= '0' && u[open] <= '9' && u[open + 1] >= '0' && u[open + 1] <= '9' && u[open + 2] >= '0' && u[open + 2] <= '9' &&
        u[open + 3] >= '0' && u[open + 3] <= '9')
        return 0;
    Py_ssize_t i = open;
    while (i < close) {
        unsigned char c = u[i];
        if (c < 0x80) {
            if (c < 0x20 || c == '\\') return 0;
            i++;
            continue;
        }
        Py_ssize_t k = utf8_length(u, i, close);
        if (k == 0) return 0;
        i += k;
    }
    return 1;
}

/* Whether a ':' follows s[i:] after JSON whitespace (the string before i is a key). */
static int key_follows(const char *s, Py_ssize_t i, Py_ssize_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i < n && s[i] == ':';
}

/* Whether s[i:end] is one JSON number with a fraction or an exponent, of at most 18 integer
 * digits and an exponent of at most 2 digits. */
static int plain_float(const char *s, Py_ssize_t i, Py_ssize_t end) {
    Py_ssize_t j = i + (s[i] == '-'), d = j;
    while (j < end && s[j] >= '0' && s[j] <= '9') j++;
    if (j == d || j - d > 18 || (s[d] == '0' && j - d > 1)) return 0;
    int marked = 0;
    if (j < end && s[j] == '.') {
        Py_ssize_t f = ++j;
        while (j < end && s[j] >= '0' && s[j] <= '9') j++;
        if (j == f) return 0;
        marked = 1;
    }
    if (j < end && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < end && (s[j] == '+' || s[j] == '-')) j++;
        Py_ssize_t e = j;
        while (j < end && s[j] >= '0' && s[j] <= '9') j++;
        if (j == e || j - e > 2) return 0;
        marked = 1;
    }
    return marked && j == end;
}

/* The shape of s[0:n] written to out (at most n bytes); returns its length. */
static Py_ssize_t shape_of(const char *s, Py_ssize_t n, char *out) {
    Py_ssize_t i = 0, o = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') { /* a string, copied through its closing quote (or to the end) */
            Py_ssize_t j = i + 1;
            while (j < n && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
            if (j < n && !key_follows(s, j + 1, n) && plain_string(s, i + 1, j)) {
                out[o++] = '"';
                out[o++] = '"';
                i = j + 1;
                continue;
            }
            j = j < n ? j + 1 : n;
            memcpy(out + o, s + i, (size_t)(j - i));
            o += j - i;
            i = j;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            Py_ssize_t d = i + (c == '-'), j = d;
            while (j < n && s[j] >= '0' && s[j] <= '9') j++;
            int more = j < n && (s[j] == '.' || s[j] == 'e' || s[j] == 'E');
            if (!more && j - d >= 1 && j - d <= 18) {
                out[o++] = '0';
                i = j;
                continue;
            }
            while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.' || s[j] == 'e' || s[j] == 'E' || s[j] == '+' || s[j] == '-')) j++;
            if (j == i) j = i + 1;
            if (more && plain_float(s, i, j)) { /* "0.0" is no longer than any such number */
                memcpy(out + o, "0.0", 3);
                o += 3;
                i = j;
                continue;
            }
            memcpy(out + o, s + i, (size_t)(j - i));
            o += j - i;
            i = j;
            continue;
        }
        out[o++] = c;
        i++;
    }
    return o;
}

static uint64_t fnv1a(const char *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* metadata_shapes(data, offsets) -> list of the distinct shapes of the column's values
 * (data[offsets[i]:offsets[i+1]], native int64 offsets as split_into writes them), in order
 * of first appearance. */
static PyObject *metadata_shapes(PyObject *self, PyObject *args) {
    Py_buffer data, offsets;
    if (!PyArg_ParseTuple(args, "y*y*", &data, &offsets)) return NULL;
    const char *base = data.buf;
    const char *raw = offsets.buf;
    Py_ssize_t n = offsets.len / (Py_ssize_t)sizeof(int64_t) - 1, cap = 16, longest = 0;
    PyObject **slots = NULL, *found = NULL;
    uint64_t *hashes = NULL;
    char *buf = NULL;
    if (n < 0) n = 0;
    int64_t prev = 0, cur;
    for (Py_ssize_t i = 0; i <= n; i++) { /* offsets must rise within data */
        memcpy(&cur, raw + i * (Py_ssize_t)sizeof(int64_t), sizeof(int64_t));
        if ((i == 0 && cur != 0) || cur < prev || cur > (int64_t)data.len) {
            PyErr_SetString(PyExc_ValueError, "metadata_shapes: offsets out of order or past the data");
            goto fail;
        }
        if (i > 0 && cur - prev > longest) longest = (Py_ssize_t)(cur - prev);
        prev = cur;
    }
    while (cap < 2 * n + 16) cap <<= 1;
    slots = PyMem_Calloc((size_t)cap, sizeof(PyObject *)); /* distinct shapes, by hash */
    hashes = PyMem_Calloc((size_t)cap, sizeof(uint64_t));
    buf = PyMem_Malloc((size_t)longest + 1);
    found = PyList_New(0);
    if (slots == NULL || hashes == NULL || buf == NULL || found == NULL) {
        if (found != NULL) PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t a, b;
        memcpy(&a, raw + i * (Py_ssize_t)sizeof(int64_t), sizeof(int64_t));
        memcpy(&b, raw + (i + 1) * (Py_ssize_t)sizeof(int64_t), sizeof(int64_t));
        Py_ssize_t len = shape_of(base + a, (Py_ssize_t)(b - a), buf);
        uint64_t h = fnv1a(buf, len);
        size_t at = (size_t)h & (size_t)(cap - 1);
        int known = 0;
        while (slots[at] != NULL) {
            if (hashes[at] == h && PyBytes_GET_SIZE(slots[at]) == len && memcmp(PyBytes_AS_STRING(slots[at]), buf, (size_t)len) == 0) {
                known = 1;
                break;
            }
            at = (at + 1) & (size_t)(cap - 1);
        }
        if (known) continue;
        PyObject *shape = PyBytes_FromStringAndSize(buf, len);
        if (shape == NULL) goto fail;
        if (PyList_Append(found, shape) < 0) {
            Py_DECREF(shape);
            goto fail;
        }
        slots[at] = shape; /* borrowed: the list holds it */
        hashes[at] = h;
        Py_DECREF(shape);
    }
    PyMem_Free(slots);
    PyMem_Free(hashes);
    PyMem_Free(buf);
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    return found;
fail:
    PyMem_Free(slots);
    PyMem_Free(hashes);
    PyMem_Free(buf);
    Py_XDECREF(found);
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    return NULL;
}

static PyMethodDef methods[] = {
    {"split_into", split_into, METH_VARARGS, "Append each line's id, metadata (and reason, duplicate_of) JSON slices to column buffers; the first line left to the reference."},
    {"split_joined_into", split_joined_into, METH_VARARGS, "split_into for lines end to end in one buffer (line i ends at the int64 ends[i])."},
    {"metadata_shapes", metadata_shapes, METH_VARARGS, "The distinct shapes (values whose type does not depend on their text written as 0, 0.0 or \"\") of a column's metadata JSON texts, in order."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_shardnotes", "Compiled split of output lines for the shard notes.", -1, methods};

PyMODINIT_FUNC PyInit__shardnotes(void) { return PyModule_Create(&module); }
