import { armError, json, type Handler } from "../http.ts";
import { retryAfterHeader, type LroContext } from "../lro.ts";
import { vmKey, type WireOperation } from "../state.ts";

/**
 * GET .../locations/{location}/operations/{operationId}: the Azure-AsyncOperation resource. It
 * answers InProgress for the operation's first polls, then finishes it (the VM becomes
 * Succeeded or Failed, or disappears for a delete) and reports Succeeded or Failed with ARM's
 * error from then on.
 */
export function getOperation(c: LroContext): Handler {
  return (_request, params) => {
    const op = c.state.operations.get(params.operationId ?? "");
    if (!op) {
      return armError(404, "NotFound", `The operation '${params.operationId}' was not found.`);
    }
    if (op.status === "InProgress") {
      if (op.pollsLeft > 0) op.pollsLeft--;
      else finish(c, op);
    }
    return json(
      200,
      {
        name: op.name,
        status: op.status,
        startTime: op.startTime,
        ...(op.endTime ? { endTime: op.endTime } : {}),
        ...(op.error && op.status === "Failed" ? { error: op.error } : {}),
      },
      op.status === "InProgress" ? retryAfterHeader(c) : {},
    );
  };
}

function finish(c: LroContext, op: WireOperation): void {
  const key = vmKey(op.resourceGroup, op.vmName);
  const vm = c.state.vms.get(key);
  op.endTime = c.now().toISOString();
  if (op.error) {
    op.status = "Failed";
    // A VM whose placement failed stays behind in the Failed state, as in ARM: it must be deleted.
    if (vm) vm.properties.provisioningState = "Failed";
    return;
  }
  op.status = "Succeeded";
  if (!vm) return;
  if (op.kind === "create") {
    vm.properties.provisioningState = "Succeeded";
    // The VM boots with the customData it was created with.
    const customData = c.state.customData.get(key);
    c.hooks.created(vm, customData ? { customData } : {});
  } else {
    c.state.vms.delete(key);
    c.state.customData.delete(key);
    c.hooks.deleted(vm);
  }
}
