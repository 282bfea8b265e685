/* A size-class pool for libxml2's allocations in the extraction child (lxml's libxml2).
 *
 * install(etree_path) -> bool     uninstall() -> bool     stats() -> dict
 *
 * Why: libxml2 mallocs every node, attribute and text of a parsed page one by one and frees them
 * one by one when the tree goes (xmlFreeDoc). In the extraction child glibc's malloc and free were
 * ~19 % of a trafilatura-eval run's CPU samples (perf, cpu-clock: _int_malloc, malloc_consolidate,
 * unlink_chunk, _int_free, cfree): its tcache holds 7 chunks a size, so a page's thousands of
 * freed nodes go to fastbins that the next large request consolidates, and the next page's nodes
 * come back from the sorted bins. Here a freed block goes onto its size class's free list and the
 * next request of that class takes it back: a push and a pop.
 *
 * Layout: one reservation of CLASSES regions of CLASS_SPAN bytes (virtual memory, MAP_NORESERVE:
 * pages are backed when first touched), region c serving sizes up to (c + 1) * 16 bytes, so a
 * block's class is its address's region and a pointer is the pool's by one range test. Requests
 * over MAX_SMALL bytes, requests once a region is used up, and requests from any thread but the
 * one that installed the pool go to the functions libxml2 used before (glibc's malloc); a pointer
 * outside the reservation is handed to those (memory allocated before install, or by them).
 * A pool block freed by another thread is left unused rather than raced onto a list (libxml2
 * frees a tree where lxml drops it: the installing thread in the child, which runs no other).
 *
 * Memory: the pool never returns pages to the system while installed; what it keeps is bounded
 * by CLASS_SPAN a class (past that, glibc serves the class). A page's tree is freed before the
 * next page is parsed, so the child holds about its largest page's tree.
 *
 * What it changes: only where libxml2's memory comes from. Trees, texts and every result are the
 * same (tests/test_extract_xmlpool.py extracts pages with and without it and compares).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define GRAIN 16
#define CLASSES 64
#define MAX_SMALL (CLASSES * GRAIN) /* 1024 bytes */
#define CLASS_SPAN ((size_t)32 << 20)

typedef void (*free_fn)(void *);
typedef void *(*malloc_fn)(size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef char *(*strdup_fn)(const char *);
typedef int (*gc_setup_fn)(free_fn, malloc_fn, malloc_fn, realloc_fn, strdup_fn);
typedef int (*gc_get_fn)(free_fn *, malloc_fn *, malloc_fn *, realloc_fn *, strdup_fn *);

typedef struct free_block {
    struct free_block *next;
} free_block;

static char *base = NULL; /* the reservation: CLASSES * CLASS_SPAN bytes */
static char *bump[CLASSES]; /* the next never-used block of each class */
static free_block *free_list[CLASSES];
static uint64_t live[CLASSES]; /* blocks of each class handed out and not freed by the owner */
static pthread_t owner;
static int installed = 0; /* libxml2 calls the pool's functions (from install on, for good) */
static int serving = 0;   /* and the pool serves new blocks (install .. uninstall) */
static free_fn sys_free;
static malloc_fn sys_malloc, sys_malloc_atomic;
static realloc_fn sys_realloc;
static strdup_fn sys_strdup;
static uint64_t served = 0, passed = 0, stranded = 0, resets = 0;

static inline int in_pool(const void *p) {
    return (uintptr_t)((const char *)p - base) < (uintptr_t)CLASSES * CLASS_SPAN;
}

static inline size_t class_of(const void *p) { return (size_t)((const char *)p - base) / CLASS_SPAN; }

static void *pool_malloc(size_t size) {
    if (size <= MAX_SMALL && serving && pthread_equal(pthread_self(), owner)) {
        size_t c = size ? (size - 1) / GRAIN : 0;
        free_block *block = free_list[c];
        if (block != NULL) {
            free_list[c] = block->next;
            live[c]++;
            served++;
            return block;
        }
        size_t bytes = (c + 1) * GRAIN;
        if (bump[c] + bytes <= base + (c + 1) * CLASS_SPAN) {
            void *fresh = bump[c];
            bump[c] += bytes;
            live[c]++;
            served++;
            return fresh;
        }
    }
    passed++;
    return sys_malloc(size);
}

static void *pool_malloc_atomic(size_t size) { return pool_malloc(size); }

static void pool_free(void *p) {
    if (p == NULL) return;
    if (!in_pool(p)) {
        sys_free(p);
        return;
    }
    if (!pthread_equal(pthread_self(), owner)) {
        stranded++; /* never on another thread's list; the block stays unused */
        return;
    }
    size_t c = class_of(p);
    if (--live[c] == 0) {
        /* The class's last block is back (a page's tree is freed whole before the next page is
         * parsed): its region starts over, so the next page's nodes are laid out one after the
         * other in allocation order, as glibc carves them from fresh memory, instead of being
         * popped in the order the last tree was freed (scattered: a cache miss a node, measured
         * 10 % of the child's samples in the allocation). */
        bump[c] = base + c * CLASS_SPAN;
        free_list[c] = NULL;
        resets++;
        return;
    }
    free_block *block = (free_block *)p;
    block->next = free_list[c];
    free_list[c] = block;
}

static void *pool_realloc(void *p, size_t size) {
    if (p == NULL) return pool_malloc(size);
    if (!in_pool(p)) return sys_realloc(p, size);
    size_t have = (class_of(p) + 1) * GRAIN;
    if (size <= have && size > 0) return p; /* the block already holds it */
    void *moved = pool_malloc(size);
    if (moved == NULL) return NULL; /* realloc's contract: the old block stays valid */
    memcpy(moved, p, size < have ? size : have);
    pool_free(p);
    return moved;
}

static char *pool_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = pool_malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}

static PyObject *install(PyObject *self, PyObject *arg) {
    const char *path = PyUnicode_AsUTF8(arg);
    if (path == NULL) return NULL;
    if (installed) {
        owner = pthread_self();
        serving = 1;
        Py_RETURN_TRUE;
    }
    /* lxml's etree module, already loaded: its own (static) libxml2's allocator hooks. */
    void *handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (handle == NULL) Py_RETURN_FALSE;
    gc_get_fn gc_get = (gc_get_fn)dlsym(handle, "xmlGcMemGet");
    gc_setup_fn gc_setup = (gc_setup_fn)dlsym(handle, "xmlGcMemSetup");
    dlclose(handle); /* RTLD_NOLOAD took one more reference; the module stays loaded */
    if (gc_get == NULL || gc_setup == NULL) Py_RETURN_FALSE;
    if (gc_get(&sys_free, &sys_malloc, &sys_malloc_atomic, &sys_realloc, &sys_strdup) != 0 || sys_free == NULL ||
        sys_malloc == NULL || sys_malloc_atomic == NULL || sys_realloc == NULL || sys_strdup == NULL)
        Py_RETURN_FALSE;
    void *reserved = mmap(NULL, (size_t)CLASSES * CLASS_SPAN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED) Py_RETURN_FALSE; /* no room to reserve: glibc stays */
    base = reserved;
    for (int c = 0; c < CLASSES; c++) {
        bump[c] = base + (size_t)c * CLASS_SPAN;
        free_list[c] = NULL;
        live[c] = 0;
    }
    owner = pthread_self();
    serving = 1;
    if (gc_setup(pool_free, pool_malloc, pool_malloc_atomic, pool_realloc, pool_strdup) != 0) {
        serving = 0;
        Py_RETURN_FALSE;
    }
    installed = 1;
    Py_RETURN_TRUE;
}

/* New blocks from glibc again. libxml2 keeps calling the pool's functions, which free and
 * resize the pool's blocks still alive and hand everything else to glibc, so this is safe at
 * any time (the tests compare trees made with and without the pool in one process). */
static PyObject *uninstall(PyObject *self, PyObject *unused) {
    if (!serving) Py_RETURN_FALSE;
    serving = 0;
    Py_RETURN_TRUE;
}

static PyObject *stats(PyObject *self, PyObject *unused) {
    uint64_t used = 0, idle = 0;
    PyObject *alive = PyList_New(CLASSES);
    if (alive == NULL) return NULL;
    for (int c = 0; c < CLASSES; c++) {
        PyObject *count = PyLong_FromUnsignedLongLong(live[c]);
        if (count == NULL) {
            Py_DECREF(alive);
            return NULL;
        }
        PyList_SET_ITEM(alive, c, count);
        if (base == NULL) continue;
        used += (uint64_t)(bump[c] - (base + (size_t)c * CLASS_SPAN));
        for (free_block *b = free_list[c]; b != NULL; b = b->next) idle += (uint64_t)(c + 1) * GRAIN;
    }
    return Py_BuildValue("{s:O,s:K,s:K,s:K,s:K,s:K,s:K,s:N}", "installed", serving ? Py_True : Py_False, "served", (unsigned long long)served,
                         "passed", (unsigned long long)passed, "stranded", (unsigned long long)stranded, "resets",
                         (unsigned long long)resets, "bytes_touched", (unsigned long long)used, "bytes_free", (unsigned long long)idle,
                         "live", alive);
}

static PyMethodDef methods[] = {
    {"install", install, METH_O, "Serve libxml2's small allocations from the pool (etree module path); False where it cannot."},
    {"uninstall", uninstall, METH_NOARGS, "libxml2's previous allocator again (only once no pool block is alive)."},
    {"stats", stats, METH_NOARGS, "Counters: installed, served, passed, stranded, resets, bytes_touched, bytes_free, live (blocks a class)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_xmlpool", NULL, -1, methods};

PyMODINIT_FUNC PyInit__xmlpool(void) { return PyModule_Create(&module); }
