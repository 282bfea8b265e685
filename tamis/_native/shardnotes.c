/* The shard notes' per-line split (tamis.io.shardnotes.split_lines_reference), compiled.
 *
 * For each output line as tamis writes it ({"id":I,"text":T,"metadata":M[,"reason":R,
 * "detail":D,"duplicate_of":K]}\n) the notes keep I and M (and R, K for rejects) as JSON text.
 * The reference finds M's start with bytes.find over the whole text; here the text string is
 * skipped with memchr for its closing quote (a quote inside a JSON string is always escaped),
 * which is the same first occurrence (see skip_string). Any line laid out otherwise is left to
 * the reference: its slot holds None and its index is listed.
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

static int set_slice(PyObject *list, Py_ssize_t i, const char *s, Py_ssize_t a, Py_ssize_t b) {
    PyObject *v = PyBytes_FromStringAndSize(s + a, b > a ? b - a : 0); /* an empty slice, as Python cuts it */
    if (v == NULL) return -1;
    return PyList_SetItem(list, i, v); /* drops the None the slot held */
}

static PyObject *new_nones(Py_ssize_t n) {
    PyObject *list = PyList_New(n);
    if (list == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(Py_None);
        PyList_SET_ITEM(list, i, Py_None);
    }
    return list;
}

/* split_lines(lines, rejects) -> (ids, metas, reasons, keepers, left): JSON text slices of
 * each line (reasons/keepers None unless rejects); `left` lists the indices of lines left to
 * the reference (their slots hold None). */
static PyObject *split_lines(PyObject *self, PyObject *args) {
    PyObject *lines;
    int rejects;
    if (!PyArg_ParseTuple(args, "O!p", &PyList_Type, &lines, &rejects)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(lines);
    PyObject *ids = new_nones(n), *metas = new_nones(n);
    PyObject *reasons = rejects ? new_nones(n) : (Py_INCREF(Py_None), Py_None);
    PyObject *keepers = rejects ? new_nones(n) : (Py_INCREF(Py_None), Py_None);
    PyObject *left = PyList_New(0);
    if (!ids || !metas || !reasons || !keepers || !left) goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(lines, i);
        if (!PyBytes_Check(item)) goto refer;
        const char *s = PyBytes_AS_STRING(item);
        Py_ssize_t len = PyBytes_GET_SIZE(item);
        if (len < LEN(ID_PREFIX) || memcmp(s, ID_PREFIX, (size_t)LEN(ID_PREFIX)) != 0) goto refer;
        Py_ssize_t text_at = find_from(s, len, TEXT_KEY, LEN(TEXT_KEY), 0);
        if (text_at < 0) goto refer;
        Py_ssize_t meta_at = find_from(s, len, METADATA_KEY, LEN(METADATA_KEY), skip_string(s, len, text_at));
        if (meta_at < 0) goto refer;
        int closed = len >= 2 && s[len - 2] == '}' && s[len - 1] == '\n';
        Py_ssize_t end, at = -1;
        if (rejects) {
            end = at = rfind(s, len, REJECT_TAIL, LEN(REJECT_TAIL));
        } else {
            if (closed) {
                end = len - 2;
            } else { /* the last byte before trailing ASCII whitespace (bytes.rstrip) */
                Py_ssize_t k = len;
                while (k > 0 && (s[k - 1] == ' ' || (s[k - 1] >= '\t' && s[k - 1] <= '\r'))) k--;
                end = k - 1;
            }
        }
        if (end <= meta_at) goto refer;
        Py_ssize_t reason_a = 0, reason_b = 0, keeper_a = 0, keeper_b = 0;
        if (rejects) {
            Py_ssize_t detail_at = find_from(s, len, DETAIL_KEY, LEN(DETAIL_KEY), at);
            Py_ssize_t keeper_at = detail_at < 0 ? -1 : find_from(s, len, KEEPER_KEY, LEN(KEEPER_KEY), detail_at);
            Py_ssize_t tail_end = closed ? len - 2 : -1;
            if (!(detail_at > at && keeper_at > detail_at && tail_end > keeper_at)) goto refer;
            reason_a = at + LEN(REJECT_TAIL), reason_b = detail_at;
            keeper_a = keeper_at + LEN(KEEPER_KEY), keeper_b = tail_end;
            if (reason_b <= reason_a || s[reason_a] != '"') goto refer;
            Py_ssize_t kl = keeper_b - keeper_a;
            int null = kl == 4 && memcmp(s + keeper_a, "null", 4) == 0;
            if (!null && (kl < 1 || s[keeper_a] != '"')) goto refer;
        }
        if (set_slice(ids, i, s, LEN(ID_PREFIX), text_at) < 0) goto fail;
        if (set_slice(metas, i, s, meta_at + LEN(METADATA_KEY), end) < 0) goto fail;
        if (rejects) {
            if (set_slice(reasons, i, s, reason_a, reason_b) < 0) goto fail;
            if (set_slice(keepers, i, s, keeper_a, keeper_b) < 0) goto fail;
        }
        continue;
    refer: {
        PyObject *index = PyLong_FromSsize_t(i);
        if (index == NULL || PyList_Append(left, index) < 0) {
            Py_XDECREF(index);
            goto fail;
        }
        Py_DECREF(index);
    }
    }
    return Py_BuildValue("(NNNNN)", ids, metas, reasons, keepers, left);
fail:
    Py_XDECREF(ids);
    Py_XDECREF(metas);
    Py_XDECREF(reasons);
    Py_XDECREF(keepers);
    Py_XDECREF(left);
    return NULL;
}

/* ------------------------------------------------------------------ metadata shapes
 *
 * The card's schema of a JSON-lines shard is what Arrow's JSON reader infers from the
 * records' metadata objects. Every record's metadata differs (its source line at least), so
 * the notes used to hand Arrow all of them, shard after shard (~7 % of a one-pass exact dedup).
 * Arrow infers int64 for every integer literal that fits in 64 bits, whatever its value, so a
 * metadata object with each such integer (at most 18 digits, a minus sign allowed) written as
 * 0 infers the same type: its "shape". Strings are kept whole (a string's content decides
 * whether Arrow reads a timestamp), as are numbers with a fraction or an exponent and longer
 * integers. The schema is then inferred from the distinct shapes, a handful per shard.
 * metadata_shapes_reference in tamis/io/shardnotes.py is the plain version. */

/* The shape of s[0:n] written to out (at most n bytes); returns its length. */
static Py_ssize_t shape_of(const char *s, Py_ssize_t n, char *out) {
    Py_ssize_t i = 0, o = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') { /* a string, copied through its closing quote (or to the end) */
            Py_ssize_t j = i + 1;
            while (j < n && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
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

/* metadata_shapes(metas) -> list of the distinct shapes of the bytes in metas, in order of
 * first appearance (an item that is not bytes is given back as it is, once per occurrence). */
static PyObject *metadata_shapes(PyObject *self, PyObject *arg) {
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "metadata_shapes takes a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(arg), cap = 16, longest = 0;
    while (cap < 2 * n + 16) cap <<= 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(arg, i);
        if (PyBytes_Check(item) && PyBytes_GET_SIZE(item) > longest) longest = PyBytes_GET_SIZE(item);
    }
    PyObject **slots = PyMem_Calloc((size_t)cap, sizeof(PyObject *)); /* distinct shapes, by hash */
    uint64_t *hashes = PyMem_Calloc((size_t)cap, sizeof(uint64_t));
    char *buf = PyMem_Malloc((size_t)longest + 1);
    PyObject *found = PyList_New(0);
    if (slots == NULL || hashes == NULL || buf == NULL || found == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(arg, i);
        if (!PyBytes_Check(item)) {
            if (PyList_Append(found, item) < 0) goto fail;
            continue;
        }
        Py_ssize_t len = shape_of(PyBytes_AS_STRING(item), PyBytes_GET_SIZE(item), buf);
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
    return found;
fail:
    PyMem_Free(slots);
    PyMem_Free(hashes);
    PyMem_Free(buf);
    Py_XDECREF(found);
    return NULL;
}

static PyMethodDef methods[] = {
    {"split_lines", split_lines, METH_VARARGS, "Per line: id, metadata (and reason, duplicate_of) JSON slices; indices left to the reference."},
    {"metadata_shapes", metadata_shapes, METH_O, "The distinct shapes (integers written as 0) of metadata JSON texts, in order."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_shardnotes", "Compiled split of output lines for the shard notes.", -1, methods};

PyMODINIT_FUNC PyInit__shardnotes(void) { return PyModule_Create(&module); }
