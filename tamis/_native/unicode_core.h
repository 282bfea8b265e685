/* Pieces shared by the compiled text modules (text.c, jsonl.c): UTF-8 output and the
 * comparison folding tables (case folding + typographic apostrophes), built once at import.
 *
 * Every function here is static: each module that includes this header owns its copy of the
 * tables (a few hundred kilobytes, filled in well under a millisecond).
 */
#ifndef TAMIS_UNICODE_CORE_H
#define TAMIS_UNICODE_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030D0000
#define HAVE_FOLD 1
#else
#define HAVE_FOLD 0
#endif

static inline int is_apostrophe(Py_UCS4 c) {
    return c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0x2032 || c == 0xFF07 || c == 0x0060 || c == 0x00B4;
}

/* Invisible characters that carry no text, dropped from the comparison form (so a copy that
 * differs only by them is an exact duplicate): zero-width space, non-joiner and joiner, word
 * joiner and the invisible operators, the byte-order mark / zero-width no-break space, the
 * Mongolian vowel separator, and the bidirectional controls (marks, embeddings, overrides,
 * isolates). The same set as IGNORABLE in tamis/text.py. */
static inline int is_ignorable(Py_UCS4 c) {
    return (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) ||
           c == 0xFEFF || c == 0x061C || c == 0x180E;
}

static inline Py_ssize_t put_utf8(unsigned char *buf, Py_ssize_t len, Py_UCS4 c) {
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
    return len;
}

/* Whitespace as str.split() sees it (Py_UNICODE_ISSPACE); no code point above U+3000 is. */
#define SPACE_LIMIT 0x3001
static unsigned char space_table[SPACE_LIMIT];

static inline int is_space_cp(Py_UCS4 c) { return c < SPACE_LIMIT && space_table[c]; }

/* Case folding of the Basic Multilingual Plane: the single folded code point (apostrophes
 * already turned into '), or FOLD_MANY when a code point folds to several (ß → ss). */
#define FOLD_MANY 0xFFFFFFFFu
static uint32_t *fold_bmp;

/* Folds c (case folding, then apostrophes) into out[0..2]; returns how many code points,
 * or 0 where this CPython does not expose its folding table (then the caller folds in Python). */
static inline int fold_cp(Py_UCS4 c, Py_UCS4 out[3]) {
    if (c < 0x10000) {
        uint32_t f = fold_bmp[c];
        if (f != FOLD_MANY) {
            out[0] = f;
            return 1;
        }
    }
#if HAVE_FOLD
    int n = _PyUnicode_ToFoldedFull(c, out);
    for (int k = 0; k < n; k++) {
        if (is_apostrophe(out[k])) out[k] = '\'';
    }
    return n;
#else
    return 0;
#endif
}

/* The tables are the same in every module that includes this header (the same code over the
 * same CPython): a module imported after another one finds that one's through its
 * "_unicode_core" capsule, copies its space table and shares its fold table (never freed, never
 * written after its init), instead of deriving them again (65,536 calls of CPython's folding,
 * ~5M instructions a module's import). */
#define UNICODE_CORE_CAPSULE "tamis._native.unicode_core"
typedef struct {
    const unsigned char *space;
    uint32_t *fold;
} UnicodeCoreShared;
static UnicodeCoreShared unicode_core_shared;

/* 1 if the tables were taken from module_name's (already imported: nothing is imported here), else 0. */
static int unicode_core_from(const char *module_name) {
    PyObject *name = PyUnicode_FromString(module_name);
    PyObject *module = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    PyObject *capsule = module ? PyObject_GetAttrString(module, "_unicode_core") : NULL;
    Py_XDECREF(module);
    const UnicodeCoreShared *other = capsule ? PyCapsule_GetPointer(capsule, UNICODE_CORE_CAPSULE) : NULL;
    Py_XDECREF(capsule);
    PyErr_Clear();
    if (other == NULL || other->fold == NULL) return 0;
    memcpy(space_table, other->space, SPACE_LIMIT);
    fold_bmp = other->fold;
    return 1;
}

/* Puts this module's tables where a module imported later finds them; -1 on error. */
static int add_unicode_core_capsule(PyObject *module) {
    unicode_core_shared.space = space_table;
    unicode_core_shared.fold = fold_bmp;
    PyObject *capsule = PyCapsule_New(&unicode_core_shared, UNICODE_CORE_CAPSULE, NULL);
    if (capsule == NULL) return -1;
    if (PyModule_AddObject(module, "_unicode_core", capsule) < 0) {
        Py_DECREF(capsule);
        return -1;
    }
    return 0;
}

/* Fills the tables (or takes them from _text's or _jsonl's, whichever was imported first);
 * returns -1 with MemoryError set on failure. */
static int init_unicode_core(void) {
    if (unicode_core_from("tamis._native._text") || unicode_core_from("tamis._native._jsonl")) return 0;
    for (int c = 0; c < SPACE_LIMIT; c++) space_table[c] = Py_UNICODE_ISSPACE((Py_UCS4)c) != 0;
    fold_bmp = (uint32_t *)malloc(sizeof(uint32_t) * 0x10000);
    if (fold_bmp == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_UCS4 c = 0; c < 0x10000; c++) {
        Py_UCS4 folded[3];
        int n = 1;
        folded[0] = c;
#if HAVE_FOLD
        n = _PyUnicode_ToFoldedFull(c, folded);
#else
        if (c >= 'A' && c <= 'Z') folded[0] = c + 32;
        if (c >= 0x80) n = 0;
#endif
        if (n == 1) {
            fold_bmp[c] = is_apostrophe(folded[0]) ? '\'' : folded[0];
        } else {
            fold_bmp[c] = FOLD_MANY;
        }
    }
    return 0;
}

#endif
