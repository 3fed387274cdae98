export { FakeCloudProvider, fakeProviderPrefix } from "./cloudprovider.ts";
export { fakeInstanceType, type FakeInstanceTypeOptions } from "./instancetype.ts";
