import { armError, type Policy } from "../http.ts";

/** Only the stand-in's one subscription exists. */
export function requireSubscription(subscriptionId: string): Policy {
  return (_request, route) => {
    const asked = route.params.subscriptionId;
    if (asked !== undefined && asked.toLowerCase() !== subscriptionId.toLowerCase()) {
      return armError(404, "SubscriptionNotFound", `The subscription '${asked}' could not be found.`);
    }
    return undefined;
  };
}
