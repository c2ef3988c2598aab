"""Adam, SGD and LambdaLR without ``torch.optim``: the same numbers, without its start-up cost.

Any use of ``torch.optim`` imports ``torch._dynamo`` (and sympy): ``Optimizer.step`` is wrapped by
``_use_grad_for_differentiable`` and the update functions by ``torch._disable_dynamo``, which import it on first
call, about 1.2 s a job before the first step. These classes do the update of torch 2.13.0's *single-tensor* path
(``torch/optim/adam.py`` ``_single_tensor_adam``, ``sgd.py`` ``_single_tensor_sgd``) operation for operation, in
the same order and with the same Python scalars, so on the CPU (where torch picks that path by default) their
parameters are bitwise equal to ``torch.optim``'s (``tests/test_optim.py``). Adam without weight decay applies
each operation to all of a group's parameters at once with torch's ``_foreach`` ops once the state exists: on the
CPU these run the per-tensor kernels, so the numbers are the same; on a GPU they run torch's multi-tensor kernels,
which may differ in the last bits (as torch's own default there, its foreach path, does from its single-tensor one).

Only what the package uses: one or more parameter groups (``param_groups``, each a dict whose ``"lr"`` a schedule
or the caller may set), ``zero_grad(set_to_none=True)``, ``step()``, and ``state`` (per parameter, the same keys as
torch's: ``step``, ``exp_avg`` and ``exp_avg_sq`` for Adam, ``momentum_buffer`` for SGD), which
``dltheory.nn.training._compact`` re-slices. Adam's ``step`` is kept as a Python float rather than torch's float32
scalar tensor: the same integer values, hence the same bias corrections. Parameters without a gradient are
skipped, as torch skips them (no step counted). No amsgrad, maximize, closures, sparse or complex parameters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import torch


class _Optimizer:
    """The parameter groups, per-parameter state and ``zero_grad`` shared by ``Adam`` and ``SGD``."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: defaultdict[torch.Tensor, dict] = defaultdict(dict)  # as torch's
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups: list[dict] = []
        for group in groups:
            group = dict(group)
            parameters = group["params"]
            group["params"] = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
            for key, value in defaults.items():
                group.setdefault(key, value)
            self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients (torch's default: set them to None)."""
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                if set_to_none:
                    parameter.grad = None
                else:
                    if parameter.grad.grad_fn is not None:
                        parameter.grad.detach_()
                    else:
                        parameter.grad.requires_grad_(False)
                    parameter.grad.zero_()


class Adam(_Optimizer):
    """``torch.optim.Adam(params, lr, betas, eps, weight_decay)`` (no amsgrad), its single-tensor update."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            if weight_decay == 0 and self._step_together(group["params"], beta1, beta2, lr, eps):
                continue
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if grad.is_sparse or torch.is_complex(param):
                    raise NotImplementedError("dltheory's Adam takes dense real parameters only")
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = 0.0
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                # torch: step_t += 1 on a float32 scalar tensor, then step = step_t.item()
                step = state["step"] = float(state["step"]) + 1.0
                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2**0.5
                denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                param.addcdiv_(exp_avg, denom, value=-step_size)

    def _step_together(self, params: list, beta1: float, beta2: float, lr: float, eps: float) -> bool:
        """The update above for every parameter of a group at once (torch's ``_foreach`` ops, each the per-tensor
        operation on each tensor: the same numbers, ``tests/test_optim.py``), when all parameters with a gradient
        share one step count, as they do in every training loop here; False (nothing done) otherwise. Fewer Python
        calls per step: with a bucketed DNN's dozens of parameter tensors the optimizer is a fifth of a step."""
        params = [param for param in params if param.grad is not None]
        if not params:
            return True
        states = [self.state[param] for param in params]
        if any(len(state) == 0 for state in states):
            return False  # the first step initialises the state one parameter at a time
        steps = {state["step"] for state in states}
        if len(steps) != 1 or any(param.grad.is_sparse or torch.is_complex(param) for param in params):
            return False
        step = steps.pop() + 1.0
        for state in states:
            state["step"] = step
        grads = [param.grad for param in params]
        exp_avgs, exp_avg_sqs = [state["exp_avg"] for state in states], [state["exp_avg_sq"] for state in states]
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
        step_size = lr / (1 - beta1**step)
        denominators = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denominators, (1 - beta2**step) ** 0.5)
        torch._foreach_add_(denominators, eps)
        torch._foreach_addcdiv_(params, exp_avgs, denominators, value=-step_size)
        return True


class SGD(_Optimizer):
    """``torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)``, its single-tensor update."""

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if grad.is_sparse:
                    raise NotImplementedError("dltheory's SGD takes dense gradients only")
                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)
                if momentum != 0:
                    state = self.state[param]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = grad.detach().clone()
                    else:
                        buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                    grad = grad.add(buf, alpha=momentum) if nesterov else buf
                param.add_(grad, alpha=-lr)


class LambdaLR:
    """``torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)``: lr = initial lr x lr_lambda(epoch).

    As torch's, construction records each group's ``initial_lr`` and sets lr = initial lr x lr_lambda(0); each
    ``step()`` (after the optimizer's) advances the epoch and sets lr = initial lr x lr_lambda(epoch)."""

    def __init__(self, optimizer: _Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]]):
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def step(self) -> None:
        self.last_epoch += 1
        for group, lr_lambda, base_lr in zip(self.optimizer.param_groups, self.lr_lambdas, self.base_lrs,
                                             strict=True):
            group["lr"] = base_lr * lr_lambda(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]
