// The AWS identity of the Kubernetes serving pods: how the cluster vouches for them (trust) and the
// one thing they may do (read the promoted model, decrypt it through S3).
import { ARTIFACT_PREFIXES } from "@ml-platform/contract";
import { policy, PolicyDocument } from "./documents";

/** The EKS Pod Identity service principal (EKS User Guide, "Learn how EKS Pod Identity grants pods access to AWS services"). */
export const POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com";

/** The audience EKS's projected service-account tokens carry for IRSA. */
export const IRSA_AUDIENCE = "sts.amazonaws.com";

/**
 * Trust for EKS Pod Identity: the agent assumes the role and tags the session with the cluster,
 * namespace and service account, hence sts:TagSession. The conditions admit only this account's
 * clusters and only the one service account of the one namespace, by those session tags (EKS User
 * Guide, "Create IAM role with trust policy required by EKS Pod Identity"), whatever association
 * someone else creates; with a cluster name, only that cluster.
 */
export function podIdentityTrustPolicy(accountId: string, namespace: string, serviceAccount: string, clusterName?: string): PolicyDocument {
  return policy({
    Sid: "TrustEksPodIdentityForOneServiceAccount",
    Effect: "Allow",
    Principal: { Service: POD_IDENTITY_PRINCIPAL },
    Action: ["sts:AssumeRole", "sts:TagSession"],
    Condition: {
      StringEquals: {
        "aws:SourceAccount": accountId,
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": serviceAccount,
        ...(clusterName ? { "aws:RequestTag/eks-cluster-name": clusterName } : {}),
      },
    },
  });
}

/**
 * Trust for IRSA: only the one service account of the one namespace, with a token minted for STS,
 * from the cluster's OIDC provider.
 */
export function irsaTrustPolicy(oidcProviderArn: string, namespace: string, serviceAccount: string): PolicyDocument {
  const issuer = oidcIssuer(oidcProviderArn);
  return policy({
    Sid: "TrustOneServiceAccount",
    Effect: "Allow",
    Principal: { Federated: oidcProviderArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: {
        [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
        [`${issuer}:aud`]: IRSA_AUDIENCE,
      },
    },
  });
}

/** The issuer host/path an OIDC provider ARN names (`arn:aws:iam::<acct>:oidc-provider/<issuer>`): the prefix of its condition keys. */
export function oidcIssuer(oidcProviderArn: string): string {
  const at = oidcProviderArn.indexOf(":oidc-provider/");
  if (at < 0) throw new Error(`not an IAM OIDC provider ARN: ${oidcProviderArn}`);
  return oidcProviderArn.slice(at + ":oidc-provider/".length);
}

export interface ModelReaderPolicyArgs {
  region: string;
  artifactBucketArn: string;
  kmsKeyArn: string;
}

/**
 * What a serving pod needs, and nothing more: get the promoted artifacts of this stack (the
 * models/ prefix) and decrypt them, only as S3 asks on its behalf. No list, no write, no other
 * prefix (training output, captures, checkpoints stay out of reach).
 */
export function modelReaderPolicy(args: ModelReaderPolicyArgs): PolicyDocument {
  return policy(
    {
      Sid: "ReadPromotedModels",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: `${args.artifactBucketArn}/${ARTIFACT_PREFIXES.models}/*`,
    },
    {
      Sid: "DecryptThroughS3",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: args.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${args.region}.amazonaws.com` } },
    },
  );
}
