// A training job's input channels from a dataset manifest. SageMaker's ManifestFile channels list
// keys, not VersionIds: each lists the content-addressed copies `data snapshot` made
// (`datasets/sha256/<hex>`), whose names are their hashes, so the job reads exactly the manifest's
// bytes; the manifest itself is one more channel, and ml-core checks every file against it before
// training (a replaced or corrupted object fails the job, naming the file).
import { DATASET_CHANNELS, channelManifestKey, manifestKey } from "@ml-platform/contract";
import type { Channel } from "@aws-sdk/client-sagemaker";
import { MANIFEST_CHANNEL } from "@ml-platform/ml-core";

export function manifestChannels(bucket: string, manifestId: string): Channel[] {
  return [
    ...DATASET_CHANNELS.map((channel): Channel => ({
      ChannelName: channel,
      ContentType: "text/csv",
      CompressionType: "None",
      DataSource: {
        S3DataSource: {
          S3DataType: "ManifestFile",
          S3Uri: `s3://${bucket}/${channelManifestKey(manifestId, channel)}`,
          S3DataDistributionType: "FullyReplicated",
        },
      },
    })),
    {
      ChannelName: MANIFEST_CHANNEL,
      ContentType: "application/json",
      CompressionType: "None",
      // The exact key (S3Prefix of a full key): the one manifest object.
      DataSource: { S3DataSource: { S3DataType: "S3Prefix", S3Uri: `s3://${bucket}/${manifestKey(manifestId)}`, S3DataDistributionType: "FullyReplicated" } },
    },
  ];
}
