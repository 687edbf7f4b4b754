/* Optimizers, gradient clipping and learning-rate schedules, after MLX's mlx.optimizers.
 *
 * An optimizer keeps its state as arrays in a dict of flattened names, as MLX's tree_flatten of
 * optimizer.state gives them: "step" (uint64), "learning_rate" (float64, so that a run resumed
 * from saved state continues bitwise) and, per parameter, e.g. "layers.0.weight.m". An update is lazy: it records the new parameters and state and
 * computes nothing, so one evaluation computes the loss, the gradients and the update together.
 * A training step reads like MLX's:
 *
 *   lz_nn_grad_fn *loss_and_grad = lz_nn_value_and_grad(model, loss_fn, NULL);
 *   lz_optimizer *opt = lz_optim_adam(1e-3, 0.9, 0.999, 1e-8, false);
 *   for (int step = 0; step < steps; step++) {
 *     lz_array *loss; lz_dict *grads;
 *     lz_nn_grad_fn_call(loss_and_grad, (lz_array *[]){x, y}, 2, &loss, &grads);
 *     lz_optim_update(opt, model, grads);   // nothing computed yet
 *     lz_optim_eval(opt, model, loss);      // mx.eval(loss, model.parameters(), opt.state)
 *     lz_free(loss), lz_dict_free(grads);
 *   }
 *
 * Hyperparameters follow MLX's names and defaults (given in each comment); the learning rate
 * for a step is the schedule's value at the step count before the update, and the step count
 * used by bias corrections is the one after it (MLX's order). */
#ifndef LAZULI_OPTIM_H
#define LAZULI_OPTIM_H

#include "core.h"
#include "dict.h"
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lz_optimizer lz_optimizer;
typedef struct lz_schedule lz_schedule;

/* ---- optimizers: the caller owns the result (lz_optim_free) --------------------------------- */

/* SGD(learning_rate, momentum = 0, weight_decay = 0, dampening = 0, nesterov = false):
 * g += wd p; v = mu v + (1 - dampening) g; p -= lr (nesterov ? g + mu v : v) (p -= lr g when
 * momentum is 0). Nesterov needs momentum > 0 and no dampening. */
LZ_API lz_optimizer *lz_optim_sgd(double learning_rate, double momentum, double weight_decay,
                                  double dampening, bool nesterov);
/* RMSprop(learning_rate, alpha = 0.99, eps = 1e-8): v = a v + (1 - a) g^2;
 * p -= lr g / (sqrt(v) + eps). */
LZ_API lz_optimizer *lz_optim_rmsprop(double learning_rate, double alpha, double eps);
/* Adagrad(learning_rate, eps = 1e-8): v += g^2; p -= lr g / (sqrt(v) + eps). */
LZ_API lz_optimizer *lz_optim_adagrad(double learning_rate, double eps);
/* AdaDelta(learning_rate, rho = 0.9, eps = 1e-6): v = rho v + (1 - rho) g^2;
 * d = sqrt(u + eps) / sqrt(v + eps) g; u = rho u + (1 - rho) d^2; p -= lr d. */
LZ_API lz_optimizer *lz_optim_adadelta(double learning_rate, double rho, double eps);
/* Adam(learning_rate, betas = (0.9, 0.999), eps = 1e-8, bias_correction = false):
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr m / (sqrt(v) + eps), or with bias
 * correction p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
LZ_API lz_optimizer *lz_optim_adam(double learning_rate, double beta1, double beta2, double eps,
                                   bool bias_correction);
/* AdamW(learning_rate, betas = (0.9, 0.999), eps = 1e-8, weight_decay = 0.01,
 * bias_correction = false): p *= 1 - lr wd, then Adam's update. */
LZ_API lz_optimizer *lz_optim_adamw(double learning_rate, double beta1, double beta2, double eps,
                                    double weight_decay, bool bias_correction);
/* Adamax(learning_rate, betas = (0.9, 0.999), eps = 1e-8): m = b1 m + (1 - b1) g;
 * v = max(b2 v, |g|); p -= lr m / (v + eps). */
LZ_API lz_optimizer *lz_optim_adamax(double learning_rate, double beta1, double beta2, double eps);
/* Lion(learning_rate, betas = (0.9, 0.99), weight_decay = 0): c = b1 m + (1 - b1) g;
 * m = b2 m + (1 - b2) g; p = p (1 - lr wd) - lr sign(c). */
LZ_API lz_optimizer *lz_optim_lion(double learning_rate, double beta1, double beta2,
                                   double weight_decay);
/* Adafactor(learning_rate = None, eps = (1e-30, 1e-3), clip_threshold = 1, decay_rate = -0.8,
 * beta_1 = None, weight_decay = 0, scale_parameter = true, relative_step = true,
 * warmup_init = false). A learning_rate or beta_1 that is NaN or negative means None; without a
 * learning rate, relative_step must be true. Parameters of 2 or more dims keep factored second
 * moments (exp_avg_sq_row, exp_avg_sq_col), others exp_avg_sq. */
LZ_API lz_optimizer *lz_optim_adafactor(double learning_rate, double eps1, double eps2,
                                        double clip_threshold, double decay_rate, double beta_1,
                                        double weight_decay, bool scale_parameter,
                                        bool relative_step, bool warmup_init);
/* Releases the optimizer, its state and its schedule. NULL is a no-op. */
LZ_API void lz_optim_free(lz_optimizer *opt);

/* ---- using an optimizer -------------------------------------------------------------------- */

/* New parameters for every gradient in `grads`: a new dict with the names of `grads`, each
 * parameter taken from `params` (an error if missing). Advances the step and updates the state.
 * Lazy. MLX's optimizer.apply_gradients(grads, params). */
LZ_API lz_dict *lz_optim_apply_gradients(lz_optimizer *opt, const lz_dict *grads,
                                         const lz_dict *params);
/* model.update(apply_gradients(grads, model)). Returns 0 or -1 (nothing changed). */
LZ_API int lz_optim_update(lz_optimizer *opt, lz_module *model, const lz_dict *grads);
/* Computes loss (may be NULL), every parameter of model (may be NULL) and the optimizer's state
 * in one pass. Returns 0 or -1. */
LZ_API int lz_optim_eval(lz_optimizer *opt, lz_module *model, lz_array *loss);
/* A new dict sharing the state arrays (the caller frees it). */
LZ_API lz_dict *lz_optim_state(const lz_optimizer *opt);
/* Number of updates so far (the "step" state). */
LZ_API int64_t lz_optim_step(const lz_optimizer *opt);
/* The learning rate of the last update (or the initial one before any). */
LZ_API double lz_optim_learning_rate(const lz_optimizer *opt);
/* Sets a constant learning rate (dropping any schedule). */
LZ_API void lz_optim_set_learning_rate(lz_optimizer *opt, double learning_rate);
/* Puts the learning rate on `schedule`, taking over the caller's reference to it (a NULL
 * schedule is an error). Returns 0 or -1. */
LZ_API int lz_optim_set_schedule(lz_optimizer *opt, lz_schedule *schedule);
/* Saves the state (evaluating it) to a .safetensors file. Returns 0 or -1. */
LZ_API int lz_optim_save_state(lz_optimizer *opt, const char *path);
/* Replaces the state by the one saved in a .safetensors file (its "step" and "learning_rate"
 * are read at once; the other arrays stay lazy). Returns 0 or -1 (state unchanged). */
LZ_API int lz_optim_load_state(lz_optimizer *opt, const char *path);

/* Scales every gradient by max_norm / (norm + 1e-6) when their global 2-norm `norm` is not
 * below max_norm (MLX's clip_grad_norm). Returns a new dict; *total_norm (if not NULL) receives
 * the norm as a 0-d array. Lazy. */
LZ_API lz_dict *lz_optim_clip_grad_norm(const lz_dict *grads, double max_norm,
                                        lz_array **total_norm);

/* ---- learning-rate schedules (the caller owns the result: lz_schedule_free) ---------------- */

/* init * decay_rate^step */
LZ_API lz_schedule *lz_optim_exponential_decay(double init, double decay_rate);
/* init * decay_rate^(step / step_size), integer division */
LZ_API lz_schedule *lz_optim_step_decay(double init, double decay_rate, int64_t step_size);
/* end + (init - end) (1 + cos(pi min(step, decay_steps) / decay_steps)) / 2 (end = 0) */
LZ_API lz_schedule *lz_optim_cosine_decay(double init, int64_t decay_steps, double end);
/* init + min(step, steps) (end - init) / steps: a linear warmup */
LZ_API lz_schedule *lz_optim_linear_schedule(double init, double end, int64_t steps);
/* schedules[0] until boundaries[0], then schedules[1] (at step - boundaries[0]), ...: n
 * schedules, n - 1 boundaries. Takes over the n schedules, even on failure. */
LZ_API lz_schedule *lz_optim_join_schedules(int n, lz_schedule *const *schedules,
                                            const int64_t *boundaries);
/* A schedule computed by fn(ctx, step); ctx_free (may be NULL) releases ctx with it. */
LZ_API lz_schedule *lz_schedule_new(double (*fn)(void *ctx, int64_t step), void *ctx,
                                    void (*ctx_free)(void *ctx));
/* The schedule's value at `step`. */
LZ_API double lz_schedule_value(const lz_schedule *s, int64_t step);
LZ_API void lz_schedule_free(lz_schedule *s);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_OPTIM_H */
