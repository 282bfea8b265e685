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
 *   count_words(s)       the number of maximal runs of non-whitespace, i.e. len(s.split()).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static inline int is_apostrophe(Py_UCS4 c) {
    return c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0x2032 || c == 0xFF07 || c == 0x0060 || c == 0x00B4;
}

static inline int is_space(Py_UCS4 c) { return Py_UNICODE_ISSPACE(c); }

static PyObject *fold_spaces_utf8(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "fold_spaces_utf8() expects a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    /* Worst case 4 bytes per code point (spaces only shrink). */
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * 4 + 1);
    if (out == NULL) return NULL;
    unsigned char *buf = (unsigned char *)PyBytes_AS_STRING(out);
    Py_ssize_t len = 0;
    int pending_space = 0, any = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 128) {
            if (c == ' ' || (c >= 9 && c <= 13) || (c >= 28 && c <= 31)) {
                pending_space = any;
                continue;
            }
            if (c == '`') c = '\'';
        } else if (is_space(c)) {
            pending_space = any;
            continue;
        } else if (is_apostrophe(c)) {
            c = '\'';
        }
        if (pending_space) {
            buf[len++] = ' ';
            pending_space = 0;
        }
        any = 1;
        if (c < 0x80) {
            buf[len++] = (unsigned char)c;
        } else if (c < 0x800) {
            buf[len++] = (unsigned char)(0xC0 | (c >> 6));
            buf[len++] = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            buf[len++] = (unsigned char)(0xE0 | (c >> 12));
            buf[len++] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            buf[len++] = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            buf[len++] = (unsigned char)(0xF0 | (c >> 18));
            buf[len++] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            buf[len++] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            buf[len++] = (unsigned char)(0x80 | (c & 0x3F));
        }
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
    int in_word = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int space = c < 128 ? (c == ' ' || (c >= 9 && c <= 13) || (c >= 28 && c <= 31)) : is_space(c);
        if (space) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            words++;
        }
    }
    return PyLong_FromSsize_t(words);
}

static PyMethodDef methods[] = {
    {"fold_spaces_utf8", fold_spaces_utf8, METH_O, "UTF-8 of s with whitespace runs collapsed and apostrophes folded."},
    {"count_words", count_words, METH_O, "len(s.split()) without building the list."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_text", "Compiled text primitives.", -1, methods};

PyMODINIT_FUNC PyInit__text(void) { return PyModule_Create(&module); }
