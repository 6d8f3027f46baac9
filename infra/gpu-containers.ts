/**
 * What a SageMaker endpoint serves: container presets and their images, where the model comes from,
 * the variant name. Pure data, shared by the GpuEndpoint construct and local mode.
 */
import type { ContainerProtocol } from '../functions/core/env.ts';

/** The one production variant of every endpoint ModelGate deploys (scaling, alarms and the emulator name it). */
export const PRODUCTION_VARIANT = 'AllTraffic';

/** Where SageMaker unpacks an endpoint's ModelDataUrl inside the container. */
export const SAGEMAKER_MODEL_DIR = '/opt/ml/model';

/**
 * AWS Deep Learning Container registries by region (the SageMaker Python
 * SDK's image_uri_config); regions not listed use 763104351884.
 */
export const DLC_ACCOUNTS: Record<string, string> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-east-2': '975050140332',
  'ap-northeast-3': '364406365360',
  'ap-south-2': '772153158452',
  'ap-southeast-3': '907027046896',
  'ap-southeast-4': '457447274322',
  'ap-southeast-5': '550225433462',
  'ap-southeast-6': '633930458069',
  'ap-southeast-7': '590183813437',
  'ca-west-1': '204538143572',
  'eu-central-2': '380420809688',
  'eu-south-1': '692866216735',
  'eu-south-2': '503227376785',
  'il-central-1': '780543022126',
  'me-central-1': '914824155844',
  'me-south-1': '217643126080',
  'mx-central-1': '637423239942',
};
export const DLC_DEFAULT_ACCOUNT = '763104351884';
export const DLC_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
  ...Object.keys(DLC_ACCOUNTS),
];

export type { ContainerProtocol };

/** A serving container: a prebuilt AWS image (LMI, TGI, Triton) or an image of one's own. */
export class ContainerPreset {
  /** AWS Large Model Inference (DJL Serving with vLLM). */
  static readonly LMI = new ContainerPreset('lmi', 'djl-inference', '0.35.0-lmi17.0.0-cu128', 'lmi');
  /** Hugging Face Text Generation Inference. */
  static readonly TGI = new ContainerPreset(
    'tgi',
    'huggingface-pytorch-tgi-inference',
    '2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04',
    'tgi',
  );
  /** NVIDIA Triton Inference Server (speaks the Open Inference Protocol). */
  static readonly TRITON = new ContainerPreset('triton', 'sagemaker-tritonserver', '25.09-py3', 'v2');

  private constructor(
    readonly name: string,
    /** DLC repository, or undefined for an explicit image. */
    readonly repository: string | undefined,
    readonly tag: string,
    readonly protocol: ContainerProtocol,
    readonly image?: string,
  ) {}

  /** An image of one's own (ECR URI); its protocol must be given. */
  static image(uri: string, protocol: ContainerProtocol): ContainerPreset {
    if (!/^[\w.-]+(:\d+)?\/[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})?$/.test(uri)) {
      throw new Error(
        `image '${uri}' is not an image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag`,
      );
    }
    return new ContainerPreset('image', undefined, '', protocol, uri);
  }

  /** `lmi`, `tgi`, `triton`, or an image URI (with `protocol`). */
  static of(name: string, protocol?: ContainerProtocol): ContainerPreset {
    if (name === 'lmi') return ContainerPreset.LMI;
    if (name === 'tgi') return ContainerPreset.TGI;
    if (name === 'triton') return ContainerPreset.TRITON;
    if (!protocol)
      throw new Error(`container '${name}' is an image of your own: say which protocol it speaks`);
    return ContainerPreset.image(name, protocol);
  }
}

/**
 * Where the container gets its model: a Hugging Face model id it downloads at start, or
 * `s3://…/model.tar.gz` artifacts SageMaker unpacks to /opt/ml/model before the container starts.
 *
 * @example
 * ModelSource.huggingFace('Qwen/Qwen2.5-7B-Instruct');
 * ModelSource.s3('s3://my-bucket/llm/model.tar.gz');
 */
export class ModelSource {
  private constructor(
    /** The Hugging Face model id, for a hub model. */
    readonly hfModelId: string | undefined,
    /** The artifacts' S3 URL, bucket and key, for S3 artifacts. */
    readonly modelData: { readonly url: string; readonly bucket: string; readonly key: string } | undefined,
  ) {}

  static huggingFace(modelId: string): ModelSource {
    if (modelId.trim() === '') throw new Error('a Hugging Face model id cannot be empty, e.g. org/model');
    return new ModelSource(modelId, undefined);
  }

  static s3(url: string): ModelSource {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!match) throw new Error(`modelDataUrl '${url}' is not an S3 URL like s3://bucket/model.tar.gz`);
    return new ModelSource(undefined, { url, bucket: match[1] as string, key: match[2] as string });
  }

  /**
   * The model id the container loads: the hub id, or the folder SageMaker unpacked the artifacts
   * to. TGI's SageMaker entrypoint exits unless HF_MODEL_ID is set, whatever the source.
   */
  get containerModelId(): string {
    return this.hfModelId ?? SAGEMAKER_MODEL_DIR;
  }
}
