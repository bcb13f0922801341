/*
 * lib_nn.h - torch.nn (lib_nn.c), torch.nn.functional (lib_functional.c),
 * torch.optim (lib_optim.c) and torch.utils.data (lib_data.c): what these
 * files share, and how front-ends find a model's parameters.
 */
#ifndef NNREPL_LIB_NN_H
#define NNREPL_LIB_NN_H

#include "interp.h"

/* ---- for front-ends and the teaching built-ins ---- */

/* The parameters of a model-like value, as PyTorch's named_parameters()
 * gives them: a user nn.Module instance (its own parameter tensors first,
 * then each submodule in attribute order), a built-in layer, an optimizer
 * (its parameters in order), or a list/tuple of these and of tensors.
 * Shared tensors appear once. *out is a NEW list of (name, tensor) tuples
 * with dotted names ("linear.weight", "seq.0.bias"); the tensors are also
 * named for the panes (interp_name_param). A tensor of an optimizer or list
 * that has no name yet is called "param<index>" here but stays unnamed.
 * False + error only when modules nest too deeply. */
bool nn_named_parameters(Interp *in, Value model, Value *out);

/* ---- shared by the files above ---- */

/* The namespaces, added to `torch` (which may be NULL when lib_torch has not
 * made one) and registered for import. */
ObjNamespace *lib_functional_init(Interp *in);
void lib_optim_init(Interp *in, ObjNamespace *torch);
void lib_data_init(Interp *in, ObjNamespace *torch);

/* A loss's reduction from `reduction='mean'|'sum'|'none'` and PyTorch's
 * legacy size_average=/reduce= (which win when given, as in PyTorch).
 * Unset values take their defaults. Error: "foo is not a valid value for
 * reduction". */
bool nn_reduction_arg(Interp *in, Value reduction, Value size_average, Value reduce, int *out);

/* The options of a loss, names[i] given as v[i] (VAL_UNSET when not):
 * the reduction, from reduction= or the legacy size_average=/reduce=; the
 * options nnl leaves out (weight=, another ignore_index=, label_smoothing=)
 * are errors naming `owner` ("nn.CrossEntropyLoss", "F.cross_entropy"). */
bool nn_loss_options(Interp *in, const char *owner, const char *const *names, const Value *v, int *out);

/* kernel_size, stride, padding: an int or a pair of equal ints (nnl's
 * convolutions and poolings are square); `layer` names the call. */
bool nn_square_arg(Interp *in, Value v, const char *layer, const char *what, int64_t *out);

/* A torch tensor argument (borrowed), or PyTorch's TypeError:
 * "linear(): argument 'input' (position 1) must be Tensor, not list". */
bool nn_tensor_arg(Interp *in, Value v, const char *fname, const char *arg, int position, Tensor **out);

/* An option nnl leaves out: an error unless it is unset, None or false
 * (what = "nn.ReLU(inplace=True)"). */
bool nn_reject_option(Interp *in, Value v, const char *what);

/* Report a softmax/sigmoid result to the Outputs pane. */
void nn_emit_output(Interp *in, const char *label, const Tensor *t);

/* A new wrapper value for an engine layer (takes over the reference). Every
 * OBJ_LAYER value is made here: the layer hooks rely on its layout. */
Value nn_layer_value(Interp *in, Module *m);

#endif
