/**
 * Whether a SageMaker instance type stores its ML volume on local NVMe instance storage. Such
 * storage is encrypted by the hardware, and SageMaker rejects a KMS key for it: CreateTrainingJob's
 * `ResourceConfig.VolumeKmsKeyId` and CreateEndpointConfig's `KmsKeyId` both document that "some
 * instances use local storage ... you can't request a VolumeKmsKeyId / specify a KmsKeyId" for them.
 * The encryption rules therefore exempt these types instead of demanding a key SageMaker refuses.
 *
 * Families: every family with a `d` in its size-independent suffix (m5d, c6id, g4dn, p4d, r5d...),
 * and the accelerated families whose instance storage is always local.
 */
export function hasLocalInstanceStorage(instanceType: string): boolean {
  const family = instanceType.split(".")[1] ?? "";
  return /^[a-z]+\d+[a-z]*d[a-z]*$/.test(family) || ALWAYS_LOCAL_STORAGE_FAMILIES.has(family);
}

const ALWAYS_LOCAL_STORAGE_FAMILIES: ReadonlySet<string> = new Set(["g5", "g6", "g6e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"]);
