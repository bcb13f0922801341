/*
 * complete.c - Tab completion of names and attributes for the prompts.
 *
 * Only names are followed (`model.linear.we` looks up model, then linear):
 * nothing is called and nothing is indexed, so completing never runs code.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

typedef struct Words {
    char **items;
    size_t n, cap;
} Words;

static void words_add(Words *w, const char *s, size_t len)
{
    for (size_t i = 0; i < w->n; i++)
        if (strlen(w->items[i]) == len && strncmp(w->items[i], s, len) == 0)
            return;
    if (w->n + 2 > w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        char **items = realloc(w->items, w->cap * sizeof *items);
        if (!items)
            return;
        w->items = items;
    }
    char *copy = strndup(s, len);
    if (copy)
        w->items[w->n++] = copy;
}

static void add_matching(Words *w, const char *candidate, const char *prefix, size_t plen)
{
    if (strncmp(candidate, prefix, plen) == 0 && (candidate[0] != '_' || (plen > 0 && prefix[0] == '_')))
        words_add(w, candidate, strlen(candidate));
}

static void add_table(Words *w, const Table *t, const char *prefix, size_t plen)
{
    for (int i = 0; i < t->count; i++)
        add_matching(w, t->entries[i].key->data, prefix, plen);
}

static const char *const KEYWORDS[] = {
    "and", "as", "break", "class", "continue", "def", "elif", "else", "False", "for", "from",
    "if", "import", "in", "is", "None", "not", "or", "pass", "return", "True", "while", "with", NULL,
};

static void add_attributes(Interp *in, Value v, Words *w, const char *prefix, size_t plen)
{
    if (v.kind != VAL_OBJ)
        return;
    switch (v.as.obj->kind) {
    case OBJ_NAMESPACE:
        add_table(w, &((ObjNamespace *)v.as.obj)->attrs, prefix, plen);
        return;
    case OBJ_INSTANCE:
        add_table(w, &AS_INSTANCE(v)->attrs, prefix, plen);
        for (const ObjClass *c = AS_INSTANCE(v)->cls; c; c = c->parent)
            add_table(w, &c->attrs, prefix, plen);
        return;
    case OBJ_CLASS:
        for (const ObjClass *c = AS_CLASS(v); c; c = c->parent)
            add_table(w, &c->attrs, prefix, plen);
        return;
    default:
        break;
    }
    const TypeOps *ops = &in->types[v.as.obj->kind];
    add_table(w, &ops->methods, prefix, plen);
    if (ops->property_names)
        for (const char *const *p = ops->property_names; *p; p++)
            add_matching(w, *p, prefix, plen);
}

/* Look a dotted path of names up without side effects; false if any part
 * is missing. */
static bool resolve_path(Interp *in, const char *path, size_t len, Value *out)
{
    char name[256];
    size_t i = 0;
    Value cur = {.kind = VAL_UNSET};
    while (i <= len) {
        size_t start = i;
        while (i < len && path[i] != '.')
            i++;
        size_t n = i - start;
        if (n == 0 || n >= sizeof name)
            break;
        memcpy(name, path + start, n);
        name[n] = '\0';
        Value next;
        if (cur.kind == VAL_UNSET) {
            Value *v = table_get(&in->globals, intern(in, name));
            if (!v)
                v = table_get(&in->builtins, intern(in, name));
            if (!v)
                return false;
            next = value_retain(*v);
        } else {
            Diag saved;
            diag_init(&saved);
            diag_move(&saved, &in->diag);
            bool ok = get_attribute(in, cur, intern(in, name), &next);
            diag_clear(&in->diag);
            diag_move(&in->diag, &saved);
            value_release(cur);
            if (!ok)
                return false;
        }
        cur = next;
        if (i == len) {
            *out = cur;
            return true;
        }
        i++; /* the dot */
    }
    if (cur.kind != VAL_UNSET)
        value_release(cur);
    return false;
}

static int compare_words(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **interp_complete(Interp *in, const char *line, size_t end, size_t *word_start)
{
    size_t start = end;
    while (start > 0 && (isalnum((unsigned char)line[start - 1]) || line[start - 1] == '_' ||
                         line[start - 1] == '.'))
        start--;
    const char *token = line + start;
    size_t tlen = end - start;
    const char *dot = NULL;
    for (size_t i = 0; i < tlen; i++)
        if (token[i] == '.')
            dot = token + i;
    Words w = {0};
    const char *prefix = dot ? dot + 1 : token;
    size_t plen = (size_t)(token + tlen - prefix);
    char pbuf[256];
    if (plen >= sizeof pbuf)
        plen = sizeof pbuf - 1;
    memcpy(pbuf, prefix, plen);
    pbuf[plen] = '\0';
    if (dot) {
        Value obj;
        if (resolve_path(in, token, (size_t)(dot - token), &obj)) {
            add_attributes(in, obj, &w, pbuf, plen);
            value_release(obj);
        }
        *word_start = (size_t)(prefix - line);
    } else {
        Frame *f = current_frame(in);
        for (Scope *s = f->scope; s; s = s->parent)
            add_table(&w, &s->vars, pbuf, plen);
        add_table(&w, &in->globals, pbuf, plen);
        add_table(&w, &in->builtins, pbuf, plen);
        for (int i = 0; KEYWORDS[i]; i++)
            add_matching(&w, KEYWORDS[i], pbuf, plen);
        *word_start = start;
    }
    if (!w.items) {
        w.items = malloc(sizeof *w.items);
        if (!w.items)
            return NULL;
    }
    qsort(w.items, w.n, sizeof *w.items, compare_words);
    w.items[w.n] = NULL;
    return w.items;
}

void interp_free_completions(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}
