import { randomUUID } from "node:crypto";
import type { FaultInjector } from "../faults/injector.ts";
import { armError, json, type Handler, type StandinRequest } from "../http.ts";
import { pendingOperationUrl, retryAfterHeader, startOperation, type LroContext } from "../lro.ts";
import { page } from "../paging.ts";
import { vmKey, type WireVm } from "../state.ts";

export const CREATE_VM = "virtualMachines.createOrUpdate";

export interface VmHandlerContext extends LroContext {
  faults: FaultInjector;
  pageSize: number;
}

interface PutBody {
  location?: string;
  tags?: Record<string, string>;
  zones?: string[];
  properties?: Record<string, unknown> & {
    hardwareProfile?: { vmSize?: string };
    osProfile?: Record<string, unknown> & { customData?: unknown };
  };
}

/**
 * ARM's limit on customData: base64 of at most 65535 bytes, which is 87380 characters. ARM answers
 * anything else 400 InvalidParameter with this message (seen in Azure/aks-engine #1663 and
 * Azure/acs-engine #4149).
 */
export const MAX_CUSTOM_DATA_CHARS = 87_380;
const customDataMessage = `Custom data in OSProfile must be in Base64 encoding and with a maximum length of ${MAX_CUSTOM_DATA_CHARS} characters.`;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The PUT's customData, or the ARM error for one ARM would refuse. */
function readCustomData(body: PutBody): { customData?: string } | { error: ReturnType<typeof json> } {
  const value = body.properties?.osProfile?.customData;
  if (value === undefined || value === null || value === "") return {};
  if (typeof value !== "string" || value.length > MAX_CUSTOM_DATA_CHARS || !base64.test(value))
    return {
      error: json(400, {
        error: { code: "InvalidParameter", message: customDataMessage, target: "customData" },
      }),
    };
  return { customData: value };
}

/** The PUT's properties as ARM stores and returns them: without the customData it never gives back. */
function storedProperties(body: PutBody): Record<string, unknown> {
  const properties = { ...body.properties };
  if (properties.osProfile) {
    const osProfile = { ...properties.osProfile };
    delete osProfile.customData;
    properties.osProfile = osProfile;
  }
  return properties;
}

function notFound(resourceGroup: string, vmName: string) {
  return armError(
    404,
    "ResourceNotFound",
    `The Resource 'Microsoft.Compute/virtualMachines/${vmName}' under resource group '${resourceGroup}' was not found.`,
  );
}

function idOf(c: LroContext, resourceGroup: string, vmName: string): string {
  return `/subscriptions/${c.state.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vmName}`;
}

/**
 * PUT .../virtualMachines/{vmName}. A new VM is answered 201 with provisioningState Creating and
 * an Azure-AsyncOperation header; a PUT while that create is still running joins it (200, same
 * operation); a PUT of a finished VM is an update that completes at once (200, Succeeded); a PUT
 * of a Failed VM starts the create over. An "operation"-phase fault makes the create fail in its
 * long-running operation instead of in the answer. customData must be base64 within ARM's limit;
 * a later PUT may repeat it or leave it out, but not change it (409 PropertyChangeNotAllowed).
 */
export function putVirtualMachine(c: VmHandlerContext): Handler {
  return (request, params) => {
    const resourceGroup = params.resourceGroupName!;
    const vmName = params.vmName!;
    let body: PutBody;
    try {
      body = JSON.parse(request.body || "{}") as PutBody;
    } catch {
      return armError(
        400,
        "InvalidRequestContent",
        "The request content was invalid and could not be deserialized.",
      );
    }
    const location = (body.location ?? "").toLowerCase();
    const size = body.properties?.hardwareProfile?.vmSize;
    if (!location)
      return armError(400, "LocationRequired", "The location property is required for this definition.");
    if (!size)
      return armError(
        400,
        "InvalidParameter",
        "Required parameter 'hardwareProfile.vmSize' is missing (null).",
      );

    const custom = readCustomData(body);
    if ("error" in custom) return custom.error;

    const key = vmKey(resourceGroup, vmName);
    const existing = c.state.vms.get(key);
    const state = existing?.properties.provisioningState;
    const held = c.state.customData.get(key);
    if (existing && custom.customData !== undefined && custom.customData !== held)
      return json(409, {
        error: {
          code: "PropertyChangeNotAllowed",
          message: "Changing property 'customData' is not allowed.",
          target: "customData",
        },
      });
    if (existing && state === "Creating") {
      const url = pendingOperationUrl(c, request, location, resourceGroup, vmName, "create");
      return json(200, existing, url ? { "azure-asyncoperation": url, ...retryAfterHeader(c) } : {});
    }
    if (existing && state === "Deleting") {
      return armError(
        409,
        "OperationNotAllowed",
        `Operation 'PUT' is not allowed on VM '${vmName}' since the VM is marked for deletion.`,
      );
    }
    if (existing && state === "Succeeded") {
      // An update: ARM keeps the VM's identity and creation time.
      existing.tags = body.tags;
      return json(200, existing);
    }

    const failure = c.faults.take(CREATE_VM, request, "operation");
    const error = (failure?.body as { error?: { code: string; message: string } } | undefined)?.error;
    const vm: WireVm = {
      id: idOf(c, resourceGroup, vmName),
      name: vmName,
      type: "Microsoft.Compute/virtualMachines",
      location,
      ...(body.tags ? { tags: body.tags } : {}),
      ...(body.zones ? { zones: body.zones } : {}),
      properties: {
        ...storedProperties(body),
        provisioningState: "Creating",
        timeCreated: existing?.properties.timeCreated ?? c.now().toISOString(),
        vmId: existing?.properties.vmId ?? randomUUID(),
      },
    };
    c.state.vms.set(key, vm);
    if (custom.customData !== undefined) c.state.customData.set(key, custom.customData);
    const { headers } = startOperation(c, request, {
      kind: "create",
      resourceGroup,
      vmName,
      location,
      ...(error ? { error } : {}),
    });
    return json(existing ? 200 : 201, vm, headers);
  };
}

/** GET .../virtualMachines/{vmName}. */
export function getVirtualMachine(c: VmHandlerContext): Handler {
  return (_request, params) => {
    const vm = c.state.vms.get(vmKey(params.resourceGroupName!, params.vmName!));
    return vm ? json(200, vm) : notFound(params.resourceGroupName!, params.vmName!);
  };
}

/**
 * DELETE .../virtualMachines/{vmName}: 202 with Azure-AsyncOperation while the VM is deleted
 * (provisioningState Deleting); 204 for a VM that does not exist, as ARM answers.
 */
export function deleteVirtualMachine(c: VmHandlerContext): Handler {
  return (request: StandinRequest, params) => {
    const resourceGroup = params.resourceGroupName!;
    const vmName = params.vmName!;
    const vm = c.state.vms.get(vmKey(resourceGroup, vmName));
    if (!vm) return { status: 204 };
    const running = pendingOperationUrl(c, request, vm.location, resourceGroup, vmName, "delete");
    if (running) return { status: 202, headers: { "azure-asyncoperation": running, ...retryAfterHeader(c) } };
    vm.properties.provisioningState = "Deleting";
    const { headers } = startOperation(c, request, {
      kind: "delete",
      resourceGroup,
      vmName,
      location: vm.location,
    });
    return { status: 202, headers };
  };
}

/** GET .../resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines, paged. */
export function listVirtualMachines(c: VmHandlerContext): Handler {
  return (request, params) => json(200, page(request, c.state.vmsIn(params.resourceGroupName), c.pageSize));
}
