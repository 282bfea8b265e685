/* The learned extractor's block cutting, compiled: one walk over lxml's (libxml2's) tree in C.
 *
 * segment(body) -> (texts, columns, element_depth, element_last, max_depth) or None
 *
 * does what tamis.extract.blocks.segment (the plain-Python reference, kept and compared in
 * tests/test_extract_blocks_native.py) does with etree.strip_elements, _drop_hidden and
 * etree.iterwalk, and also the per-block text counts its features() takes from numpy:
 *
 * - texts: each block's text, whitespace runs folded to one space (" ".join(text.split()));
 * - columns: bytes of int64 rows, one per block, COLUMNS values each (see the enum below);
 * - element_depth / element_last: bytes of int64, per pre-order element id (Elements);
 * - max_depth: the deepest element's depth.
 *
 * Why the result is the reference's, value for value:
 * - Skipped elements (script, style, ...) and hidden ones are left out of the walk, as the
 *   reference removes them from the tree first. Removing them (strip_elements(with_tail=False),
 *   and _drop_hidden's tail merge) joins the text before and after them into one text run, so
 *   here a text run (lxml's _collectText: adjacent text/CDATA nodes, XInclude markers skipped)
 *   continues across a left-out element too. Link characters count len(run.strip()) per run,
 *   as the reference counts per .text / .tail.
 * - Whitespace, upper case and the word/digit classes are CPython's own (Py_UNICODE_ISSPACE,
 *   Py_UNICODE_ISUPPER, Py_UNICODE_ISALNUM/ISDIGIT), so str.split(), str.strip(),
 *   str.isupper() and the reference's class table agree by construction.
 * - Class/id words: an ASCII value is lower-cased and matched longest-word-first left to right,
 *   what re.findall over the longest-first alternation does; any other value (str.lower() of
 *   non-ASCII text can make ASCII letters, e.g. the Kelvin sign) goes to the Python function
 *   given to configure(). A style that may hide (contains "none" or "hidden", as the XPath
 *   asks) goes to the Python regex, also given to configure().
 * - Whatever the reference's tree walk could see differently is not guessed at: a node type
 *   other than element/text/CDATA/XInclude marker, an element in a namespace, an attribute
 *   value that is not plain text, text that is not valid UTF-8, or an element after the walk's
 *   root: segment() returns None and the caller runs the reference.
 *
 * The walk is iterative (parent/next pointers and an explicit stack), so any depth works, and
 * each node and each character is visited a bounded number of times: linear in the page.
 *
 * The node is read through two public, stable layouts: libxml2's struct _xmlNode/_xmlAttr
 * (its ABI since 2.0) and lxml's struct LxmlElement (lxml's public C API, etree.h). A check
 * that the node points back at the Python element (lxml keeps the proxy in node->_private)
 * guards against a layout that ever differs: then segment() raises and the caller falls back.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ libxml2 / lxml layouts */

typedef unsigned char xmlChar;
struct xml_doc;
struct xml_attr;

typedef struct xml_node {
    void *_private;
    int type;
    const xmlChar *name;
    struct xml_node *children;
    struct xml_node *last;
    struct xml_node *parent;
    struct xml_node *next;
    struct xml_node *prev;
    struct xml_doc *doc;
    void *ns;
    xmlChar *content;
    struct xml_attr *properties;
} xml_node;

typedef struct xml_attr {
    void *_private;
    int type;
    const xmlChar *name;
    struct xml_node *children;
    struct xml_node *last;
    struct xml_node *parent;
    struct xml_attr *next;
    struct xml_attr *prev;
    struct xml_doc *doc;
    void *ns;
} xml_attr;

typedef struct {
    PyObject_HEAD
    void *doc;
    xml_node *c_node;
    PyObject *tag;
} lxml_element;

enum { ELEMENT_NODE = 1, TEXT_NODE = 3, CDATA_NODE = 4, XINCLUDE_START = 19, XINCLUDE_END = 20 };

/* ------------------------------------------------------------------ configuration */

#define TAG_SLOTS 512
#define MAX_HINTS 64

typedef struct {
    char *name; /* NULL: empty slot */
    int block, skip, is_a;
    int own;            /* index in OWN_TAGS, -1 if none */
    uint64_t ancestor;  /* ANCESTOR_TAGS bit, 0 if none */
} tag_info;

static tag_info tags[TAG_SLOTS];
static int own_other = 0;          /* the "other" own-tag index */
static char *hint_words[MAX_HINTS];
static size_t hint_lengths[MAX_HINTS];
static int hint_count = 0;
static int hint_by_first[128][MAX_HINTS + 1]; /* per first letter: word indices, longest first, -1 ended */
static PyObject *hint_fallback = NULL;     /* str -> int: the reference's _hint_bits */
static PyObject *style_hides = NULL;       /* str -> bool: the reference's hidden-style regex */
static uint8_t classes[0x10000];
static Py_UCS4 sentence_ends[32];
static int sentence_end_count = 0;
static int configured = 0;
static PyTypeObject *element_type = NULL; /* lxml.etree._Element */
typedef PyObject *(*element_factory_fn)(void *doc, xml_node *node);
static element_factory_fn element_factory = NULL; /* lxml's public C API: the proxy of a node */

enum { CLASS_WORD = 1, CLASS_PUNCT = 2, CLASS_DIGIT = 4 };

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static tag_info *tag_slot(const char *name, int create) {
    size_t i = (size_t)name_hash(name) & (TAG_SLOTS - 1);
    for (;;) {
        if (tags[i].name == NULL) {
            if (!create) return NULL;
            tags[i].name = strdup(name);
            if (!tags[i].name) return NULL;
            tags[i].own = -1;
            return &tags[i];
        }
        if (strcmp(tags[i].name, name) == 0) return &tags[i];
        i = (i + 1) & (TAG_SLOTS - 1);
    }
}

static int add_tags(PyObject *names, int what) {
    PyObject *seq = PySequence_Fast(names, "tag names must be a sequence");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > 200) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "too many tag names");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *name = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (!name) { Py_DECREF(seq); return -1; }
        tag_info *info = tag_slot(name, 1);
        if (!info) { Py_DECREF(seq); PyErr_NoMemory(); return -1; }
        if (what == 0) info->block = 1;
        else if (what == 1) info->skip = 1;
        else if (what == 2) info->own = (int)i;
        else if (what == 3) {
            if (i >= 64) { Py_DECREF(seq); PyErr_SetString(PyExc_ValueError, "too many ancestor tags"); return -1; }
            info->ancestor = 1ULL << i;
        }
    }
    if (what == 2) own_other = (int)n;
    Py_DECREF(seq);
    return 0;
}

static void build_classes(PyObject *punctuation) {
    for (Py_UCS4 code = 0; code < 0x10000; code++) {
        uint8_t c = 0;
        if (Py_UNICODE_ISALNUM(code) || code == '_') c = CLASS_WORD | (Py_UNICODE_ISDIGIT(code) ? CLASS_DIGIT : 0);
        classes[code] = c;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(punctuation);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 code = PyUnicode_READ_CHAR(punctuation, i);
        if (code < 0x10000 && classes[code] == 0) classes[code] = CLASS_PUNCT;
    }
}

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *block, *skip, *own, *ancestor, *hints, *punctuation, *ends, *fallback, *style, *type, *factory;
    if (!PyArg_ParseTuple(args, "OOOOOUUOOO!O", &block, &skip, &own, &ancestor, &hints, &punctuation, &ends, &fallback, &style,
                          &PyType_Type, &type, &factory))
        return NULL;
    if (configured) Py_RETURN_NONE; /* the tables are the module's constants: once per process */
    /* lxml.etree.__pyx_capi__["elementFactory"]: checked by its signature string */
    if (!PyCapsule_IsValid(factory, "struct LxmlElement *(struct LxmlDocument *, xmlNode *)")) {
        PyErr_SetString(PyExc_TypeError, "configure() needs lxml's elementFactory capsule");
        return NULL;
    }
    element_factory = (element_factory_fn)PyCapsule_GetPointer(factory, "struct LxmlElement *(struct LxmlDocument *, xmlNode *)");
    if (!element_factory) return NULL;
    if (add_tags(block, 0) || add_tags(skip, 1) || add_tags(own, 2) || add_tags(ancestor, 3)) return NULL;
    tag_info *a = tag_slot("a", 1);
    if (!a) return PyErr_NoMemory();
    a->is_a = 1;
    PyObject *seq = PySequence_Fast(hints, "hint words must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_HINTS) { Py_DECREF(seq); PyErr_SetString(PyExc_ValueError, "too many hint words"); return NULL; }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t size;
        const char *word = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(seq, i), &size);
        if (!word) { Py_DECREF(seq); return NULL; }
        if (size == 0 || (unsigned char)word[0] >= 128) { Py_DECREF(seq); PyErr_SetString(PyExc_ValueError, "hint words must be non-empty ASCII"); return NULL; }
        hint_words[i] = strdup(word);
        hint_lengths[i] = (size_t)size;
    }
    hint_count = (int)n;
    Py_DECREF(seq);
    for (int c = 0; c < 128; c++) {
        int k = 0;
        for (int i = 0; i < hint_count; i++)
            if ((unsigned char)hint_words[i][0] == c) hint_by_first[c][k++] = i;
        hint_by_first[c][k] = -1;
        for (int x = 1; x < k; x++) { /* longest first; among equals the earlier word (stable) */
            int w = hint_by_first[c][x], y = x - 1;
            while (y >= 0 && hint_lengths[hint_by_first[c][y]] < hint_lengths[w]) {
                hint_by_first[c][y + 1] = hint_by_first[c][y];
                y--;
            }
            hint_by_first[c][y + 1] = w;
        }
    }
    build_classes(punctuation);
    sentence_end_count = 0;
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(ends) && i < 32; i++) sentence_ends[sentence_end_count++] = PyUnicode_READ_CHAR(ends, i);
    Py_INCREF(fallback);
    Py_INCREF(style);
    Py_INCREF(type);
    element_type = (PyTypeObject *)type;
    hint_fallback = fallback;
    style_hides = style;
    configured = 1;
    Py_RETURN_NONE;
}

/* The reference's class table, for the test that compares it with tamis.extract.blocks._class_table. */
static PyObject *class_table(PyObject *self, PyObject *unused) {
    return PyBytes_FromStringAndSize((const char *)classes, sizeof(classes));
}

/* ------------------------------------------------------------------ growable buffers */

typedef struct { Py_UCS4 *data; size_t len, cap; } ucs4_buf;
typedef struct { int64_t *data; size_t len, cap; } i64_buf;

static int ucs4_reserve(ucs4_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    Py_UCS4 *data = realloc(b->data, cap * sizeof(Py_UCS4));
    if (!data) return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

/* An array's storage at twice its capacity (initial elements the first time), *cap updated;
 * NULL where memory runs out, the array then left as it was. */
static void *grow(void *data, size_t *cap, size_t size, size_t initial) {
    size_t n = *cap ? *cap * 2 : initial;
    void *grown = realloc(data, n * size);
    if (grown) *cap = n;
    return grown;
}

static int i64_push(i64_buf *b, int64_t value) {
    if (b->len == b->cap) {
        int64_t *data = grow(b->data, &b->cap, sizeof(int64_t), 256);
        if (!data) return -1;
        b->data = data;
    }
    b->data[b->len++] = value;
    return 0;
}

/* ------------------------------------------------------------------ the walk */

/* Per-block columns, in this order (tamis.extract.blocks.NATIVE_COLUMNS names them). */
enum {
    COL_TAG, COL_LINK_CHARS, COL_DEPTH, COL_ANCESTORS, COL_HINTS_OWN, COL_HINTS_ABOVE, COL_ELEMENT, COL_GROUP,
    COL_LENGTH, COL_WORDS, COL_PUNCT, COL_DIGITS, COL_UPPER_START, COL_SENTENCE_END, COLUMNS
};

typedef struct {
    int64_t id;
    uint64_t ancestors, hints_above, hints_own;
} open_element;

typedef struct {
    int64_t id;
    int tag; /* own-tag index */
} open_block;

#define BAIL 1 /* the reference must decide: not an error */

typedef struct {
    ucs4_buf parts;  /* the current block's text, code points */
    int has_text;
    int64_t link_chars;
    int in_link;
    open_element *stack;
    size_t stack_len, stack_cap;
    open_block *blocks;
    size_t blocks_len, blocks_cap;
    i64_buf depth, last, columns;
    PyObject *texts;
    ucs4_buf folded;
} walker;

/* Append UTF-8 text to parts; strict decoding as lxml's funicode does (no surrogates, no
 * overlong forms, nothing above U+10FFFF). Returns BAIL on invalid text. */
static int append_utf8(walker *w, const unsigned char *s, size_t n) {
    if (ucs4_reserve(&w->parts, n)) { PyErr_NoMemory(); return -1; }
    Py_UCS4 *out = w->parts.data + w->parts.len;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) { *out++ = c; i++; continue; }
        Py_UCS4 code;
        size_t need;
        if (c >= 0xC2 && c <= 0xDF) { code = c & 0x1F; need = 1; }
        else if (c >= 0xE0 && c <= 0xEF) { code = c & 0x0F; need = 2; }
        else if (c >= 0xF0 && c <= 0xF4) { code = c & 0x07; need = 3; }
        else return BAIL;
        if (i + need >= n) return BAIL; /* truncated */
        for (size_t k = 1; k <= need; k++) {
            unsigned char d = s[i + k];
            if ((d & 0xC0) != 0x80) return BAIL;
            code = (code << 6) | (d & 0x3F);
        }
        if ((need == 2 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) || (need == 3 && (code < 0x10000 || code > 0x10FFFF)))
            return BAIL;
        *out++ = code;
        i += need + 1;
    }
    w->parts.len = (size_t)(out - w->parts.data);
    return 0;
}

/* One text run (what lxml's .text / .tail of the reduced tree returns), from node on: text
 * and CDATA nodes, across XInclude markers and left-out elements. Sets *stop to the first
 * element the walk visits (NULL: none). `left_out` tells whether an element is removed. */
static int is_left_out(xml_node *node, int skip_tags, int *out);

static int text_run(walker *w, xml_node *node, int skip_tags, xml_node **stop) {
    size_t start = w->parts.len;
    int any = 0;
    *stop = NULL;
    for (; node; node = node->next) {
        if (node->type == TEXT_NODE || node->type == CDATA_NODE) {
            if (node->content && node->content[0]) {
                int r = append_utf8(w, node->content, strlen((const char *)node->content));
                if (r) return r;
                any = 1;
            }
        } else if (node->type == XINCLUDE_START || node->type == XINCLUDE_END) {
            continue;
        } else if (node->type == ELEMENT_NODE) {
            int out;
            int r = is_left_out(node, skip_tags, &out);
            if (r) return r;
            if (!out) { *stop = node; break; }
        } else {
            return BAIL; /* comments, PIs, entity references: the reference's walk would see them */
        }
    }
    if (!any) return 0;
    /* has_text / link characters of this run, as the reference does per .text / .tail */
    Py_UCS4 *p = w->parts.data + start, *end = w->parts.data + w->parts.len;
    Py_UCS4 *first = p, *last = end;
    while (first < end && Py_UNICODE_ISSPACE(*first)) first++;
    while (last > first && Py_UNICODE_ISSPACE(last[-1])) last--;
    if (first < end) w->has_text = 1;
    if (w->in_link) w->link_chars += (int64_t)(last - first);
    return 0;
}

/* An attribute's value (no namespace) as UTF-8: *value NULL when absent, "" for no children.
 * Returns BAIL when the value is not plain text. The returned pointer is owned by the tree,
 * or by *owned (to free) when it had to be joined. */
static int attribute_value(xml_attr *attr, const xmlChar **value, char **owned);

static int attribute(xml_node *node, const char *name, const xmlChar **value, char **owned) {
    *value = NULL;
    *owned = NULL;
    for (xml_attr *attr = node->properties; attr; attr = attr->next) {
        if (attr->ns != NULL || strcmp((const char *)attr->name, name) != 0) continue;
        return attribute_value(attr, value, owned);
    }
    return 0;
}

/* The first attribute (no namespace) of each of count names, in one pass over the element's
 * attributes (NULL where absent): what attribute() finds for each, without a pass per name. */
static void find_attributes(xml_node *node, const char *const *names, int count, xml_attr **found) {
    int missing = count;
    for (int k = 0; k < count; k++) found[k] = NULL;
    for (xml_attr *attr = node->properties; attr && missing; attr = attr->next) {
        if (attr->ns != NULL) continue;
        for (int k = 0; k < count; k++)
            if (!found[k] && attr->name[0] == (xmlChar)names[k][0] && strcmp((const char *)attr->name, names[k]) == 0) {
                found[k] = attr;
                missing--;
                break;
            }
    }
}

/* attribute()'s answer for the attribute it found (attr not NULL). */
static int attribute_value(xml_attr *attr, const xmlChar **value, char **owned) {
    *value = NULL;
    *owned = NULL;
    xml_node *child = attr->children;
    if (child == NULL) { *value = (const xmlChar *)""; return 0; }
    if (child->type != TEXT_NODE) return BAIL;
    if (child->next == NULL) { *value = child->content ? child->content : (const xmlChar *)""; return 0; }
    size_t total = 0;
    for (xml_node *c = child; c; c = c->next) {
        if (c->type != TEXT_NODE) return BAIL;
        total += c->content ? strlen((const char *)c->content) : 0;
    }
    char *joined = malloc(total + 1);
    if (!joined) { PyErr_NoMemory(); return -1; }
    size_t at = 0;
    for (xml_node *c = child; c; c = c->next) {
        if (!c->content) continue;
        size_t len = strlen((const char *)c->content);
        memcpy(joined + at, c->content, len);
        at += len;
    }
    joined[at] = 0;
    *owned = joined;
    *value = (const xmlChar *)joined;
    return 0;
}

/* attribute_value() of a find_attributes() answer, NULL value where the attribute is absent. */
static int found_value(xml_attr *attr, const xmlChar **value, char **owned) {
    if (attr == NULL) {
        *value = NULL;
        *owned = NULL;
        return 0;
    }
    return attribute_value(attr, value, owned);
}

static int is_ascii(const xmlChar *s) {
    for (; *s; s++) if (*s >= 0x80) return 0;
    return 1;
}

/* Whether the reference removes this element: a skipped tag (strip_elements, inside the walk's
 * root only) or hidden (_drop_hidden's XPath, over the whole document, and its style check). */
static int is_left_out(xml_node *node, int skip_tags, int *out) {
    *out = 0;
    if (node->ns != NULL) return BAIL;
    tag_info *info = tag_slot((const char *)node->name, 0);
    if (skip_tags && info && info->skip) { *out = 1; return 0; }
    const xmlChar *value;
    char *owned;
    static const char *const names[3] = {"hidden", "aria-hidden", "style"};
    xml_attr *found[3];
    find_attributes(node, names, 3, found);
    int r = found_value(found[0], &value, &owned);
    free(owned);
    if (r) return r;
    if (value) { *out = 1; return 0; }
    r = found_value(found[1], &value, &owned);
    if (r) { free(owned); return r; }
    int aria = value && strcmp((const char *)value, "true") == 0;
    free(owned);
    if (aria) { *out = 1; return 0; }
    r = found_value(found[2], &value, &owned);
    if (r) { free(owned); return r; }
    if (value && (strstr((const char *)value, "none") || strstr((const char *)value, "hidden"))) {
        PyObject *text = PyUnicode_DecodeUTF8((const char *)value, (Py_ssize_t)strlen((const char *)value), NULL);
        free(owned);
        if (!text) { PyErr_Clear(); return BAIL; }
        PyObject *hides = PyObject_CallOneArg(style_hides, text);
        Py_DECREF(text);
        if (!hides) return -1;
        int truth = PyObject_IsTrue(hides);
        Py_DECREF(hides);
        if (truth < 0) return -1;
        *out = truth;
        return 0;
    }
    free(owned);
    return 0;
}

/* HINT_WORDS bits of a class or id value. */
static int hint_bits(const xmlChar *value, uint64_t *bits) {
    *bits = 0;
    if (!is_ascii(value)) {
        PyObject *text = PyUnicode_DecodeUTF8((const char *)value, (Py_ssize_t)strlen((const char *)value), NULL);
        if (!text) { PyErr_Clear(); return BAIL; }
        PyObject *result = PyObject_CallOneArg(hint_fallback, text);
        Py_DECREF(text);
        if (!result) return -1;
        unsigned long long v = PyLong_AsUnsignedLongLong(result);
        Py_DECREF(result);
        if (v == (unsigned long long)-1 && PyErr_Occurred()) return -1;
        *bits = v;
        return 0;
    }
    size_t n = strlen((const char *)value);
    char small[256];
    char *lower = n < sizeof(small) ? small : malloc(n + 1);
    if (!lower) { PyErr_NoMemory(); return -1; }
    for (size_t i = 0; i < n; i++) {
        char c = (char)value[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    lower[n] = 0;
    size_t i = 0;
    while (i < n) {
        const int *candidates = hint_by_first[(unsigned char)lower[i]];
        size_t matched = 0;
        for (; *candidates >= 0; candidates++) {
            size_t len = hint_lengths[*candidates];
            if (len <= n - i && memcmp(lower + i, hint_words[*candidates], len) == 0) {
                *bits |= 1ULL << *candidates;
                matched = len;
                break;
            }
        }
        i += matched ? matched : 1;
    }
    if (lower != small) free(lower);
    return 0;
}

/* hint_bits, remembered by value: a page names the same few class and id values on many elements
 * ("menu-item" on each of 80 links), and the same site's pages share them, so most values are
 * matched once per process instead of at every element (the matching was 40 % of the walk).
 * Direct-mapped by the value's hash, each slot holding a copy of its value (compared in full on a
 * hit: a different value never takes another's bits); values longer than HINT_CACHE_MAX_LEN are
 * matched every time, so the cache holds at most HINT_CACHE_SLOTS x that many bytes. The answer is
 * hint_bits' own: configure() runs once per process, so the hint words never change under it. */
#define HINT_CACHE_SLOTS 4096
#define HINT_CACHE_MAX_LEN 128

typedef struct {
    char *value; /* NULL: empty slot */
    size_t length;
    uint64_t bits;
} hint_cache_slot;

static hint_cache_slot hint_cache[HINT_CACHE_SLOTS];

static int hint_bits_cached(const xmlChar *value, uint64_t *bits) {
    uint64_t h = 1469598103934665603ULL;
    size_t n = 0;
    for (; value[n]; n++) {
        if (n == HINT_CACHE_MAX_LEN) return hint_bits(value, bits);
        h = (h ^ value[n]) * 1099511628211ULL;
    }
    hint_cache_slot *slot = &hint_cache[(h ^ (h >> 29)) & (HINT_CACHE_SLOTS - 1)];
    if (slot->value && slot->length == n && memcmp(slot->value, value, n) == 0) {
        *bits = slot->bits;
        return 0;
    }
    int r = hint_bits(value, bits);
    if (r) return r;
    char *copy = malloc(n + 1);
    if (copy) { /* no memory for the copy: the answer stands, it is just not remembered */
        memcpy(copy, value, n + 1);
        free(slot->value);
        slot->value = copy;
        slot->length = n;
        slot->bits = *bits;
    }
    return 0;
}

static int element_hints(xml_node *node, uint64_t *bits) {
    *bits = 0;
    static const char *const names[2] = {"class", "id"};
    xml_attr *found[2];
    find_attributes(node, names, 2, found);
    for (int k = 0; k < 2; k++) {
        const xmlChar *value;
        char *owned;
        int r = found_value(found[k], &value, &owned);
        if (!r && value && value[0]) {
            uint64_t more;
            r = hint_bits_cached(value, &more);
            *bits |= more;
        }
        free(owned);
        if (r) return r;
    }
    return 0;
}

static int is_sentence_end(Py_UCS4 c) {
    for (int i = 0; i < sentence_end_count; i++) if (sentence_ends[i] == c) return 1;
    return 0;
}

static inline uint8_t class_of(Py_UCS4 c) { return c < 0x10000 ? classes[c] : CLASS_WORD; }

/* The block the reference's flush() appends: the folded text and its columns. */
static int flush(walker *w) {
    Py_UCS4 *p = w->parts.data, *end = p + w->parts.len;
    w->folded.len = 0;
    if (ucs4_reserve(&w->folded, w->parts.len)) { PyErr_NoMemory(); return -1; }
    Py_UCS4 *out = w->folded.data;
    int pending_space = 0;
    for (; p < end; p++) {
        if (Py_UNICODE_ISSPACE(*p)) { pending_space = out != w->folded.data; continue; }
        if (pending_space) { *out++ = ' '; pending_space = 0; }
        *out++ = *p;
    }
    size_t length = (size_t)(out - w->folded.data);
    w->parts.len = 0;
    w->has_text = 0;
    int64_t links = w->link_chars;
    w->link_chars = 0;
    PyObject *text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, w->folded.data, (Py_ssize_t)length);
    if (!text) return -1;
    int failed = PyList_Append(w->texts, text);
    Py_DECREF(text);
    if (failed) return -1;
    int64_t words = 0, punct = 0, digits = 0;
    uint8_t previous = 0;
    for (size_t i = 0; i < length; i++) {
        uint8_t c = class_of(w->folded.data[i]);
        words += (c & CLASS_WORD) && !(previous & CLASS_WORD);
        punct += (c & CLASS_PUNCT) != 0;
        digits += (c & CLASS_DIGIT) != 0;
        previous = c;
    }
    open_element *top = &w->stack[w->stack_len - 1];
    int64_t row[COLUMNS];
    row[COL_TAG] = w->blocks[w->blocks_len - 1].tag;
    row[COL_LINK_CHARS] = links < (int64_t)length ? links : (int64_t)length;
    row[COL_DEPTH] = (int64_t)w->stack_len - 1;
    row[COL_ANCESTORS] = (int64_t)top->ancestors;
    row[COL_HINTS_OWN] = (int64_t)top->hints_own;
    row[COL_HINTS_ABOVE] = (int64_t)top->hints_above;
    row[COL_ELEMENT] = top->id;
    row[COL_GROUP] = w->blocks_len > 1 ? w->blocks[w->blocks_len - 2].id : 0;
    row[COL_LENGTH] = (int64_t)length;
    row[COL_WORDS] = words;
    row[COL_PUNCT] = punct;
    row[COL_DIGITS] = digits;
    row[COL_UPPER_START] = length && Py_UNICODE_ISUPPER(w->folded.data[0]);
    row[COL_SENTENCE_END] = length && is_sentence_end(w->folded.data[length - 1]);
    for (int k = 0; k < COLUMNS; k++)
        if (i64_push(&w->columns, row[k])) { PyErr_NoMemory(); return -1; }
    return 0;
}

/* At a block boundary: the reference's "if has_text: flush() elif parts: parts.clear()". */
static int boundary(walker *w) {
    if (w->has_text) return flush(w);
    w->parts.len = 0;
    return 0;
}

static int push_stack(walker *w, open_element e) {
    if (w->stack_len == w->stack_cap) {
        open_element *data = grow(w->stack, &w->stack_cap, sizeof(open_element), 64);
        if (!data) { PyErr_NoMemory(); return -1; }
        w->stack = data;
    }
    w->stack[w->stack_len++] = e;
    return 0;
}

static int push_block(walker *w, open_block b) {
    if (w->blocks_len == w->blocks_cap) {
        open_block *data = grow(w->blocks, &w->blocks_cap, sizeof(open_block), 64);
        if (!data) { PyErr_NoMemory(); return -1; }
        w->blocks = data;
    }
    w->blocks[w->blocks_len++] = b;
    return 0;
}

/* The start event of an element, then its .text run; *child: its first element kept. */
static int start(walker *w, xml_node *node, xml_node **child) {
    if (node->ns != NULL) return BAIL;
    tag_info *info = tag_slot((const char *)node->name, 0);
    int block = info && info->block;
    if (block && w->parts.len) {
        int r = boundary(w);
        if (r) return r;
    }
    open_element top = w->stack[w->stack_len - 1];
    uint64_t bits;
    int r = element_hints(node, &bits);
    if (r) return r;
    int64_t number = (int64_t)w->depth.len;
    if (i64_push(&w->depth, (int64_t)w->stack_len) || i64_push(&w->last, number)) { PyErr_NoMemory(); return -1; }
    uint64_t ancestor = info ? info->ancestor : 0;
    open_element e = {number, top.ancestors | ancestor, top.hints_above, top.hints_own | bits};
    if (block) {
        e.hints_above = top.hints_above | top.hints_own;
        e.hints_own = bits;
        open_block b = {number, info->own >= 0 ? info->own : own_other};
        if (push_block(w, b)) return -1;
    }
    if (push_stack(w, e)) return -1;
    if (info && info->is_a) w->in_link++;
    return text_run(w, node->children, 1, child);
}

/* The end event of an element (its .tail is read by the caller). */
static int finish(walker *w, xml_node *node) {
    tag_info *info = tag_slot((const char *)node->name, 0);
    if (info && info->block) {
        int r = boundary(w);
        if (r) return r;
        w->blocks_len--;
    } else if (info && info->is_a) {
        w->in_link--;
    }
    int64_t number = w->stack[--w->stack_len].id;
    w->last.data[number] = (int64_t)w->depth.len - 1;
    return 0;
}

static int walk(walker *w, xml_node *root) {
    xml_node *child, *node = root;
    int r = start(w, root, &child);
    if (r) return r;
    /* The stack's nodes: which element's children are being visited. */
    xml_node **open = NULL;
    size_t open_len = 0, open_cap = 0;
#define PUSH_OPEN(n)                                                                        \
    do {                                                                                    \
        if (open_len == open_cap) {                                                         \
            xml_node **data = grow(open, &open_cap, sizeof(xml_node *), 64);                \
            if (!data) { free(open); PyErr_NoMemory(); return -1; }                         \
            open = data;                                                                    \
        }                                                                                   \
        open[open_len++] = (n);                                                             \
    } while (0)
    PUSH_OPEN(node);
    while (open_len) {
        if (child) {
            node = child;
            r = start(w, node, &child);
            if (r) { free(open); return r; }
            PUSH_OPEN(node);
            continue;
        }
        node = open[--open_len];
        r = finish(w, node);
        if (r) { free(open); return r; }
        if (node == root) { /* the root's .tail: its text, across hidden elements only */
            r = text_run(w, node->next, 0, &child);
            free(open);
            return r;
        }
        r = text_run(w, node->next, 1, &child);
        if (r) { free(open); return r; }
    }
    free(open);
    return 0;
#undef PUSH_OPEN
}

static void walker_free(walker *w) {
    free(w->parts.data);
    free(w->folded.data);
    free(w->stack);
    free(w->blocks);
    free(w->depth.data);
    free(w->last.data);
    free(w->columns.data);
    Py_XDECREF(w->texts);
}

static PyObject *bytes_of(i64_buf *b) {
    return PyBytes_FromStringAndSize((const char *)b->data, (Py_ssize_t)(b->len * sizeof(int64_t)));
}

static PyObject *segment(PyObject *self, PyObject *element) {
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "tamis._native._blocks.configure() was not called");
        return NULL;
    }
    if (!PyObject_TypeCheck(element, element_type)) {
        PyErr_SetString(PyExc_TypeError, "segment() takes an lxml element");
        return NULL;
    }
    xml_node *root = ((lxml_element *)element)->c_node;
    if (root == NULL || root->_private != (void *)element || root->type != ELEMENT_NODE) {
        PyErr_SetString(PyExc_TypeError, "segment() takes an lxml element (and an lxml with its public element layout)");
        return NULL;
    }
    walker w;
    memset(&w, 0, sizeof(w));
    w.texts = PyList_New(0);
    if (!w.texts) return NULL;
    open_element base = {0, 0, 0, 0};
    open_block body = {0, own_other};
    const char *body_name = "body";
    tag_info *info = tag_slot(body_name, 0);
    if (info && info->own >= 0) body.tag = info->own;
    if (push_stack(&w, base) || push_block(&w, body) || i64_push(&w.depth, 0) || i64_push(&w.last, 0)) {
        walker_free(&w);
        return NULL;
    }
    int r = walk(&w, root);
    if (r == 0 && w.has_text) r = flush(&w);
    if (r) {
        walker_free(&w);
        if (r == BAIL && !PyErr_Occurred()) Py_RETURN_NONE;
        return NULL;
    }
    w.last.data[0] = (int64_t)w.depth.len - 1;
    int64_t max_depth = 0;
    for (size_t i = 0; i < w.depth.len; i++) if (w.depth.data[i] > max_depth) max_depth = w.depth.data[i];
    PyObject *result = Py_BuildValue("(ONNNL)", w.texts, bytes_of(&w.columns), bytes_of(&w.depth), bytes_of(&w.last), (long long)max_depth);
    walker_free(&w);
    return result;
}

/* The next node in document order after ``node``'s subtree (its next sibling, else its
 * nearest ancestor's), NULL once the walk is back at ``top``: the pre-order walks below take
 * first children themselves. */
static xml_node *after_subtree(xml_node *node, xml_node *top) {
    while (node && node->next == NULL) {
        node = node->parent;
        if (node == top) node = NULL;
    }
    return node ? node->next : NULL;
}

/* ------------------------------------------------------------------ metadata candidates */

/* ``element`` as an lxml element whose document the metadata walks may read, or NULL with the
 * error set (``fn`` names the caller in it): configure() called, an lxml element, and lxml's
 * public layout (the proxy's node points back at it and belongs to a document). */
static lxml_element *document_element(PyObject *element, const char *fn) {
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "tamis._native._blocks.configure() was not called");
        return NULL;
    }
    if (!PyObject_TypeCheck(element, element_type)) {
        PyErr_Format(PyExc_TypeError, "%s() takes an lxml element", fn);
        return NULL;
    }
    lxml_element *proxy = (lxml_element *)element;
    xml_node *root = proxy->c_node;
    if (root == NULL || root->_private != (void *)element || root->doc == NULL) {
        PyErr_Format(PyExc_TypeError, "%s() takes an lxml element (and an lxml with its public element layout)", fn);
        return NULL;
    }
    return proxy;
}


static int is_metadata_candidate(xml_node *node) {
    if (node->ns != NULL) return 0;
    const char *name = (const char *)node->name;
    if (strcmp(name, "meta") == 0 || strcmp(name, "link") == 0 || strcmp(name, "time") == 0) return 1;
    for (xml_attr *attr = node->properties; attr; attr = attr->next) {
        if (attr->ns != NULL || strcmp((const char *)attr->name, "itemprop") != 0) continue;
        /* XPath's string value of the attribute: its text children joined */
        const char *want = "datePublished";
        size_t at = 0, want_len = strlen(want);
        for (xml_node *c = attr->children; c; c = c->next) {
            if (c->type != TEXT_NODE) return -1; /* not plain text: XPath decides */
            if (!c->content) continue;
            size_t len = strlen((const char *)c->content);
            if (at + len > want_len || memcmp(want + at, c->content, len) != 0) return 0;
            at += len;
        }
        return at == want_len;
    }
    return 0;
}

/* metadata_candidates(element) -> list or None: the elements of the element's document, in document
 * order, that tamis.extract.metadata's candidate XPath selects (any meta, link or time element,
 * or an element with itemprop="datePublished"), without XPath's per-node evaluation; None when
 * an itemprop value is not plain text (the XPath decides then). */
static PyObject *metadata_candidates(PyObject *self, PyObject *element) {
    lxml_element *proxy = document_element(element, "metadata_candidates");
    if (proxy == NULL) return NULL;
    if (element_factory == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tamis._native._blocks.configure() was not called");
        return NULL;
    }
    xml_node *root = proxy->c_node;
    PyObject *found = PyList_New(0);
    if (!found) return NULL;
    /* pre-order over every element of the document: first child, else next sibling, else up */
    xml_node *top = (xml_node *)root->doc; /* struct _xmlDoc starts as struct _xmlNode does */
    xml_node *node = top->children;
    while (node) {
        if (node->type == ELEMENT_NODE) {
            int candidate = is_metadata_candidate(node);
            if (candidate < 0) {
                Py_DECREF(found);
                Py_RETURN_NONE;
            }
            if (candidate) {
                PyObject *item = element_factory(proxy->doc, node);
                if (!item || PyList_Append(found, item)) {
                    Py_XDECREF(item);
                    Py_DECREF(found);
                    return NULL;
                }
                Py_DECREF(item);
            }
            if (node->children) {
                node = node->children;
                continue;
            }
        }
        node = after_subtree(node, top);
    }
    return found;
}

/* An attribute's value as a str (None when absent); *bail set when it is not plain text or
 * not UTF-8 (the Python path decides then). */
static PyObject *attribute_str(xml_node *node, const char *name, int *bail) {
    const xmlChar *value;
    char *owned;
    int r = attribute(node, name, &value, &owned);
    if (r) {
        free(owned);
        if (r == BAIL) *bail = 1;
        return NULL;
    }
    if (!value) {
        free(owned);
        Py_RETURN_NONE;
    }
    PyObject *text = PyUnicode_DecodeUTF8((const char *)value, (Py_ssize_t)strlen((const char *)value), NULL);
    free(owned);
    if (!text) {
        PyErr_Clear();
        *bail = 1;
    }
    return text;
}

/* Whether a candidate element satisfies one selector (tag, ((name, value or None), ...)). */
static int selector_matches(xml_node *node, PyObject *selector, int *bail) {
    PyObject *tag = PyTuple_GET_ITEM(selector, 0), *tests = PyTuple_GET_ITEM(selector, 1);
    const char *want = PyUnicode_AsUTF8(tag);
    if (!want) return -1;
    if (strcmp(want, "*") != 0 && strcmp(want, (const char *)node->name) != 0) return 0;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(tests); k++) {
        PyObject *test = PyTuple_GET_ITEM(tests, k);
        const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(test, 0));
        if (!name) return -1;
        const xmlChar *value;
        char *owned;
        int r = attribute(node, name, &value, &owned);
        if (r) {
            free(owned);
            if (r == BAIL) *bail = 1;
            return r == BAIL ? 0 : -1;
        }
        PyObject *expected = PyTuple_GET_ITEM(test, 1);
        int ok;
        if (expected == Py_None) {
            ok = value != NULL;
        } else {
            Py_ssize_t size;
            const char *bytes = PyUnicode_AsUTF8AndSize(expected, &size);
            if (!bytes) { free(owned); return -1; }
            ok = value != NULL && strlen((const char *)value) == (size_t)size && memcmp(value, bytes, (size_t)size) == 0;
        }
        free(owned);
        if (!ok) return 0;
    }
    return 1;
}

/* metadata_first(element, selectors) -> list or None: for each selector (tag or "*", ((attribute,
 * value or None), ...)) the first element of the document, among metadata_candidates' elements
 * and in the same order, that it names, as the tuple of its content, href and datetime attributes
 * (each None when absent), or None where no element matches. One walk in C instead of an lxml
 * proxy and a .tag / .get call per candidate and selector. None overall where an attribute is not
 * plain UTF-8 text: the Python path decides then. */
static PyObject *metadata_first(PyObject *self, PyObject *args) {
    PyObject *element, *selectors;
    if (!PyArg_ParseTuple(args, "OO!", &element, &PyTuple_Type, &selectors)) return NULL;
    lxml_element *proxy = document_element(element, "metadata_first");
    if (proxy == NULL) return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(selectors);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *selector = PyTuple_GET_ITEM(selectors, i);
        if (!PyTuple_Check(selector) || PyTuple_GET_SIZE(selector) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(selector, 0)) ||
            !PyTuple_Check(PyTuple_GET_ITEM(selector, 1))) {
            PyErr_SetString(PyExc_TypeError, "metadata_first(): a selector is (tag, ((name, value or None), ...))");
            return NULL;
        }
        PyObject *tests = PyTuple_GET_ITEM(selector, 1);
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(tests); k++) {
            PyObject *test = PyTuple_GET_ITEM(tests, k);
            if (!PyTuple_Check(test) || PyTuple_GET_SIZE(test) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(test, 0)) ||
                (PyTuple_GET_ITEM(test, 1) != Py_None && !PyUnicode_Check(PyTuple_GET_ITEM(test, 1)))) {
                PyErr_SetString(PyExc_TypeError, "metadata_first(): a test is (name, value or None)");
                return NULL;
            }
        }
    }
    xml_node *root = proxy->c_node;
    PyObject *found = PyList_New(count);
    if (!found) return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_INCREF(Py_None);
        PyList_SET_ITEM(found, i, Py_None);
    }
    Py_ssize_t left = count;
    int bail = 0;
    xml_node *top = (xml_node *)root->doc;
    xml_node *node = top->children;
    while (node && left) {
        if (node->type == ELEMENT_NODE) {
            int candidate = is_metadata_candidate(node);
            if (candidate < 0) goto bail_out;
            if (candidate) {
                for (Py_ssize_t i = 0; i < count; i++) {
                    if (PyList_GET_ITEM(found, i) != Py_None) continue;
                    int match = selector_matches(node, PyTuple_GET_ITEM(selectors, i), &bail);
                    if (bail) goto bail_out;
                    if (match < 0) goto error;
                    if (!match) continue;
                    PyObject *values[3];
                    static const char *names[3] = {"content", "href", "datetime"};
                    for (int k = 0; k < 3; k++) {
                        values[k] = attribute_str(node, names[k], &bail);
                        if (!values[k]) {
                            for (int j = 0; j < k; j++) Py_DECREF(values[j]);
                            if (bail) goto bail_out;
                            goto error;
                        }
                    }
                    PyObject *triple = PyTuple_Pack(3, values[0], values[1], values[2]);
                    for (int k = 0; k < 3; k++) Py_DECREF(values[k]);
                    if (!triple) goto error;
                    PyList_SetItem(found, i, triple); /* steals triple, releases the None */
                    left--;
                }
            }
            if (node->children) {
                node = node->children;
                continue;
            }
        }
        node = after_subtree(node, top);
    }
    return found;
bail_out:
    Py_DECREF(found);
    Py_RETURN_NONE;
error:
    Py_DECREF(found);
    return NULL;
}

/* ------------------------------------------------------------------ the forest */

/* leaf_values(rows, feature, threshold, left, right, value, offsets, depth) -> bytes of float64
 * (rows x trees): each tree's leaf value for each row, the same walk as learned.Forest's numpy
 * gathers (go left when the float64 of the float32 feature is <= the threshold). The sum over
 * trees stays numpy's, so the log-odds are its to the last bit. */
static PyObject *leaf_values(PyObject *self, PyObject *args) {
    Py_buffer rows, feature, threshold, left, right, value, offsets;
    int depth;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*y*y*y*i", &rows, &width, &feature, &threshold, &left, &right, &value, &offsets, &depth))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t nodes = feature.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t trees = offsets.len / (Py_ssize_t)sizeof(int64_t);
    if (width <= 0 || rows.len % (width * (Py_ssize_t)sizeof(float)) || threshold.len != nodes * (Py_ssize_t)sizeof(double) ||
        left.len != feature.len || right.len != feature.len || value.len != threshold.len) {
        PyErr_SetString(PyExc_ValueError, "leaf_values: inconsistent arrays");
        goto done;
    }
    Py_ssize_t count = rows.len / (width * (Py_ssize_t)sizeof(float));
    const float *x = rows.buf;
    const int64_t *f = feature.buf, *l = left.buf, *r = right.buf, *o = offsets.buf;
    const double *t = threshold.buf, *v = value.buf;
    for (Py_ssize_t i = 0; i < nodes; i++)
        if (f[i] < 0 || f[i] >= width || l[i] < 0 || l[i] >= nodes || r[i] < 0 || r[i] >= nodes) {
            PyErr_SetString(PyExc_ValueError, "leaf_values: a node points outside the arrays");
            goto done;
        }
    for (Py_ssize_t k = 0; k < trees; k++)
        if (o[k] < 0 || o[k] >= nodes) {
            PyErr_SetString(PyExc_ValueError, "leaf_values: a tree starts outside the arrays");
            goto done;
        }
    result = PyBytes_FromStringAndSize(NULL, count * trees * (Py_ssize_t)sizeof(double));
    if (!result) goto done;
    double *out = (double *)PyBytes_AS_STRING(result);
    /* tree by tree: one tree's nodes stay in the first-level cache while every row walks it */
    for (Py_ssize_t k = 0; k < trees; k++) {
        for (Py_ssize_t i = 0; i < count; i++) {
            const float *row = x + i * width;
            int64_t node = o[k];
            for (int d = 0; d < depth; d++) node = (double)row[f[node]] <= t[node] ? l[node] : r[node];
            out[i * trees + k] = v[node];
        }
    }
done:
    PyBuffer_Release(&rows);
    PyBuffer_Release(&feature);
    PyBuffer_Release(&threshold);
    PyBuffer_Release(&left);
    PyBuffer_Release(&right);
    PyBuffer_Release(&value);
    PyBuffer_Release(&offsets);
    return result;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, "Set the tag, class/id word and character tables (once per process)."},
    {"segment", segment, METH_O, "The page's blocks and their columns from lxml's tree, or None where the reference must decide."},
    {"metadata_candidates", metadata_candidates, METH_O, "The elements tamis.extract.metadata's candidate XPath selects, in document order (None: let the XPath decide)."},
    {"metadata_first", metadata_first, METH_VARARGS, "For each selector, the content/href/datetime of the first candidate element it names (None: let Python decide)."},
    {"class_table", class_table, METH_NOARGS, "The word/punctuation/digit class of each BMP code point."},
    {"leaf_values", leaf_values, METH_VARARGS, "Each tree's leaf value for each feature row."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_blocks", NULL, -1, methods};

PyMODINIT_FUNC PyInit__blocks(void) { return PyModule_Create(&module); }
