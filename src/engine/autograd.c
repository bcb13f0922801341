#include "autograd.h"

#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* ---- freeing without recursion ---- */

/* A growable stack of nodes; used for freeing and for the topological sort. */
typedef struct NodeStack {
    Node **items;
    size_t n, cap;
    Node *first_items[16]; /* most stacks need no more: no malloc for them */
} NodeStack;

static void stack_init(NodeStack *s)
{
    s->items = s->first_items;
    s->n = 0;
    s->cap = sizeof s->first_items / sizeof s->first_items[0];
}

static void stack_done(NodeStack *s)
{
    if (s->items != s->first_items)
        free(s->items);
}

static void stack_push(NodeStack *s, Node *node)
{
    if (s->n == s->cap) {
        bool first = s->items == s->first_items;
        Node **items = realloc(first ? NULL : s->items, 2 * s->cap * sizeof *items);
        if (!items)
            abort(); /* a few bytes per node; the graph itself would not fit */
        if (first)
            memcpy(items, s->first_items, sizeof s->first_items);
        s->items = items;
        s->cap *= 2;
    }
    s->items[s->n++] = node;
}

/* Free one tensor (refcount already zero); its grad_fn goes on the stack if
 * this was its last owner. */
static void free_tensor_shallow(Tensor *t, NodeStack *pending)
{
    Engine *eng = t->storage->eng;
    storage_release(t->storage);
    if (t->grad && --t->grad->refcount == 0)
        free_tensor_shallow(t->grad, pending); /* a gradient has no gradient of its own */
    if (t->grad_fn && --t->grad_fn->refcount == 0)
        stack_push(pending, t->grad_fn);
    engine_object_free(eng, t, sizeof *t);
}

static void drop_tensor_ref(Tensor *t, NodeStack *pending)
{
    if (t && --t->refcount == 0)
        free_tensor_shallow(t, pending);
}

static size_t node_inputs_bytes(int n_inputs)
{
    return (size_t)(n_inputs > 0 ? n_inputs : 1) * sizeof(Tensor *);
}

/* Release what a node holds (inputs, saved values, scratch); the node itself
 * stays allocated. */
static void node_drop_buffers(Node *n, NodeStack *pending)
{
    if (n->inputs) {
        for (int i = 0; i < n->n_inputs; i++)
            drop_tensor_ref(n->inputs[i], pending);
        engine_object_free(n->eng, n->inputs, node_inputs_bytes(n->n_inputs));
        n->inputs = NULL;
    }
    for (int i = 0; i < NODE_MAX_SAVED; i++) {
        drop_tensor_ref(n->saved[i], pending);
        n->saved[i] = NULL;
    }
    free(n->saved_indices);
    n->saved_indices = NULL;
    drop_tensor_ref(n->grad_sum, pending);
    n->grad_sum = NULL;
}

static void free_pending(NodeStack *pending)
{
    while (pending->n > 0) {
        Node *n = pending->items[--pending->n];
        node_drop_buffers(n, pending);
        engine_object_free(n->eng, n, sizeof *n);
    }
    stack_done(pending);
}

void tensor_free_unreferenced(Tensor *t)
{
    NodeStack pending;
    stack_init(&pending);
    free_tensor_shallow(t, &pending);
    free_pending(&pending);
}

void node_retain(Node *n)
{
    if (n)
        n->refcount++;
}

void node_release(Node *n)
{
    if (!n || --n->refcount > 0)
        return;
    NodeStack pending;
    stack_init(&pending);
    stack_push(&pending, n);
    free_pending(&pending);
}

/* ---- building the graph ---- */

static bool any_input_requires_grad(int n, Tensor *const *inputs)
{
    for (int i = 0; i < n; i++)
        if (inputs[i] && inputs[i]->requires_grad)
            return true;
    return false;
}

static Node *node_new(Engine *eng, OpKind kind, int n_inputs, Tensor *const *inputs,
                      const OpArgs *args)
{
    Node *node = engine_object_alloc(eng, sizeof *node);
    Tensor **in = engine_object_alloc(eng, node_inputs_bytes(n_inputs));
    int64_t *indices = NULL;
    if (args && args->indices && args->n_indices > 0) {
        indices = malloc((size_t)args->n_indices * sizeof *indices);
        if (indices)
            memcpy(indices, args->indices, (size_t)args->n_indices * sizeof *indices);
    }
    if (!node || !in || (args && args->indices && args->n_indices > 0 && !indices)) {
        engine_object_free(eng, node, sizeof *node);
        engine_object_free(eng, in, node_inputs_bytes(n_inputs));
        free(indices);
        engine_fail(eng, "out of memory");
        return NULL;
    }
    node->refcount = 1;
    node->eng = eng;
    node->op = kind;
    node->n_inputs = n_inputs;
    node->inputs = in;
    for (int i = 0; i < n_inputs; i++)
        in[i] = tensor_retain(inputs[i]);
    if (args)
        node->args = *args;
    node->saved_indices = indices;
    node->args.indices = indices;
    return node;
}

Tensor *op_apply(Engine *eng, OpKind kind, int n_inputs, Tensor *const *inputs,
                 const OpArgs *args)
{
    if (!op_table[kind].forward) {
        engine_fail(eng, "operation %d is not available in this build", (int)kind);
        return NULL;
    }
    Node *node = node_new(eng, kind, n_inputs, inputs, args);
    if (!node)
        return NULL;
    Tensor *out = op_table[kind].forward(eng, node);
    if (!out) {
        node_release(node);
        return NULL;
    }
    bool record = eng->grad_enabled && op_table[kind].backward &&
                  any_input_requires_grad(n_inputs, inputs) && out->dtype == DTYPE_FLOAT32;
    if (record) {
        out->grad_fn = node;
        out->requires_grad = true;
    } else {
        node_release(node);
    }
    return out;
}

const char *tensor_grad_fn_name(const Tensor *t)
{
    if (!t->grad_fn)
        return NULL;
    if (t->grad_fn->args.grad_fn_name)
        return t->grad_fn->args.grad_fn_name;
    return op_table[t->grad_fn->op].grad_fn_name;
}

/* ---- gradients ---- */

bool grad_accumulate_reduced(Engine *eng, Tensor *target, const Tensor *g)
{
    float *dst = tensor_data(target);
    if (tensor_same_shape(target, g) && tensor_is_contiguous(g)) {
        const float *src = tensor_data(g);
        int64_t n = tensor_numel(target);
        for (int64_t i = 0; i < n; i++)
            dst[i] += src[i];
        return true;
    }
    /* target was broadcast up to g's shape: every element of g adds into
     * the target element it was read from (stride 0 on broadcast dims). */
    Tensor reader;
    if (!broadcast_view(eng, target, g->ndim, g->shape, &reader))
        return false;
    int64_t n = tensor_numel(g);
    for (int64_t i = 0; i < n; i++)
        target->storage->data[tensor_flat_offset(&reader, i)] += tensor_get_flat(g, i);
    return true;
}

/* Add `g` (owned by the caller) into *slot, taking a reference when the slot
 * is empty. */
static bool accumulate_into(Engine *eng, Tensor **slot, Tensor *g)
{
    if (!*slot) {
        *slot = tensor_retain(g);
        return true;
    }
    return grad_accumulate_reduced(eng, *slot, g);
}

static bool accumulate_leaf_grad(Engine *eng, Tensor *leaf, Tensor *g)
{
    if (leaf->grad && !tensor_same_shape(leaf->grad, leaf)) {
        /* .data was replaced by a tensor of another shape since the last
         * backward: start the gradient afresh, as PyTorch would error. */
        tensor_release(leaf->grad);
        leaf->grad = NULL;
    }
    return accumulate_into(eng, &leaf->grad, g);
}

static const char *const SECOND_BACKWARD_MESSAGE =
    "trying to backward through the graph a second time: its saved values were freed "
    "by the first backward() (run the forward pass again, or pass retain_graph=True "
    "to the first backward)";

/* Nodes reachable from root in topological order (inputs before consumers),
 * each retained. Iterative post-order DFS. */
static bool topological_order(Engine *eng, Node *root, NodeStack *order)
{
    typedef struct Frame { Node *node; int next_input; } Frame;
    Frame first_frames[32]; /* deep enough for most graphs: no malloc */
    size_t cap = sizeof first_frames / sizeof first_frames[0], depth = 0;
    Frame *stack = first_frames;
    bool ok = true;
    root->visit_mark = 1;
    stack[depth++] = (Frame){root, 0};
    while (depth > 0) {
        Frame *f = &stack[depth - 1];
        Node *n = f->node;
        if (n->freed) {
            ok = engine_fail(eng, "%s", SECOND_BACKWARD_MESSAGE);
            break;
        }
        if (f->next_input < n->n_inputs) {
            Tensor *in = n->inputs[f->next_input++];
            Node *child = in ? in->grad_fn : NULL;
            if (child && !child->visit_mark) {
                child->visit_mark = 1;
                if (depth == cap) {
                    Frame *bigger = realloc(stack == first_frames ? NULL : stack,
                                            2 * cap * sizeof *stack);
                    if (!bigger) {
                        ok = engine_fail(eng, "out of memory");
                        break;
                    }
                    if (stack == first_frames)
                        memcpy(bigger, first_frames, sizeof first_frames);
                    stack = bigger;
                    cap *= 2;
                }
                stack[depth++] = (Frame){child, 0};
            }
            continue;
        }
        node_retain(n);
        stack_push(order, n);
        depth--;
    }
    /* After an error, unmark what is still on the stack (the rest is in
     * `order` and is unmarked by the caller). */
    for (size_t i = 0; i < depth; i++)
        stack[i].node->visit_mark = 0;
    if (stack != first_frames)
        free(stack);
    return ok;
}

/* Run node's backward with its summed output gradient and route the input
 * gradients to the producing nodes or to the leaves. */
static bool backward_node(Engine *eng, Node *n)
{
    Tensor *gout = n->grad_sum;
    if (!gout)
        return true; /* nothing flowed here (all uses were non-differentiable) */
    Tensor *small[8] = {0};
    Tensor **gin = n->n_inputs <= 8 ? small : calloc((size_t)n->n_inputs, sizeof *gin);
    if (!gin)
        return engine_fail(eng, "out of memory");
    bool ok = true;
    for (int i = 0; i < n->n_inputs && ok; i++) {
        Tensor *in = n->inputs[i];
        if (in && in->requires_grad && in->dtype == DTYPE_FLOAT32) {
            gin[i] = tensor_zeros(eng, DTYPE_FLOAT32, in->ndim, in->shape);
            ok = gin[i] != NULL;
        }
    }
    if (ok)
        ok = op_table[n->op].backward(eng, n, gout, gin);
    for (int i = 0; i < n->n_inputs; i++) {
        if (!gin[i])
            continue;
        Tensor *in = n->inputs[i];
        if (ok) {
            if (in->grad_fn)
                ok = accumulate_into(eng, &in->grad_fn->grad_sum, gin[i]);
            else
                ok = accumulate_leaf_grad(eng, in, gin[i]);
        }
        tensor_release(gin[i]);
    }
    if (gin != small)
        free(gin);
    return ok;
}

bool autograd_backward(Engine *eng, Tensor *root, bool retain_graph)
{
    if (tensor_numel(root) != 1)
        return engine_fail(eng, "grad can be implicitly created only for scalar outputs "
                           "(backward() on a tensor of %lld elements; reduce it with sum() or mean() first)",
                           (long long)tensor_numel(root));
    if (!root->requires_grad)
        return engine_fail(eng, "element 0 of tensors does not require grad and does not have a grad_fn");
    Tensor *seed = tensor_full(eng, DTYPE_FLOAT32, root->ndim, root->shape, 1.0);
    if (!seed)
        return false;
    if (!root->grad_fn) {
        bool ok = accumulate_leaf_grad(eng, root, seed);
        tensor_release(seed);
        return ok;
    }
    NodeStack order;
    stack_init(&order);
    bool ok = topological_order(eng, root->grad_fn, &order);
    if (ok) {
        root->grad_fn->grad_sum = seed;
        seed = NULL;
        for (size_t k = order.n; k-- > 0 && ok;)
            ok = backward_node(eng, order.items[k]);
    }
    tensor_release(seed);
    NodeStack pending;
    stack_init(&pending);
    for (size_t k = 0; k < order.n; k++) {
        Node *n = order.items[k];
        n->visit_mark = 0;
        drop_tensor_ref(n->grad_sum, &pending);
        n->grad_sum = NULL;
        if (ok && !retain_graph) {
            node_drop_buffers(n, &pending);
            n->freed = true;
        }
        if (--n->refcount == 0)
            stack_push(&pending, n);
    }
    stack_done(&order);
    free_pending(&pending);
    return ok;
}
