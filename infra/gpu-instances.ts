/** SageMaker GPU instance types: pure data, shared by the config schema and the GpuEndpoint construct. */
/** A SageMaker GPU instance type with its GPU count. `of()` refuses unknown names. */
export class GpuInstanceType {
  private static readonly KNOWN = new Map<string, GpuInstanceType>();

  static readonly ML_G5_XLARGE = GpuInstanceType.define('ml.g5.xlarge', 1, 24);
  static readonly ML_G5_2XLARGE = GpuInstanceType.define('ml.g5.2xlarge', 1, 24);
  static readonly ML_G5_4XLARGE = GpuInstanceType.define('ml.g5.4xlarge', 1, 24);
  static readonly ML_G5_8XLARGE = GpuInstanceType.define('ml.g5.8xlarge', 1, 24);
  static readonly ML_G5_16XLARGE = GpuInstanceType.define('ml.g5.16xlarge', 1, 24);
  static readonly ML_G5_12XLARGE = GpuInstanceType.define('ml.g5.12xlarge', 4, 24);
  static readonly ML_G5_24XLARGE = GpuInstanceType.define('ml.g5.24xlarge', 4, 24);
  static readonly ML_G5_48XLARGE = GpuInstanceType.define('ml.g5.48xlarge', 8, 24);
  static readonly ML_G6_XLARGE = GpuInstanceType.define('ml.g6.xlarge', 1, 24);
  static readonly ML_G6_2XLARGE = GpuInstanceType.define('ml.g6.2xlarge', 1, 24);
  static readonly ML_G6_4XLARGE = GpuInstanceType.define('ml.g6.4xlarge', 1, 24);
  static readonly ML_G6_8XLARGE = GpuInstanceType.define('ml.g6.8xlarge', 1, 24);
  static readonly ML_G6_12XLARGE = GpuInstanceType.define('ml.g6.12xlarge', 4, 24);
  static readonly ML_G6_24XLARGE = GpuInstanceType.define('ml.g6.24xlarge', 4, 24);
  static readonly ML_G6_48XLARGE = GpuInstanceType.define('ml.g6.48xlarge', 8, 24);
  static readonly ML_G6E_XLARGE = GpuInstanceType.define('ml.g6e.xlarge', 1, 48);
  static readonly ML_G6E_2XLARGE = GpuInstanceType.define('ml.g6e.2xlarge', 1, 48);
  static readonly ML_G6E_4XLARGE = GpuInstanceType.define('ml.g6e.4xlarge', 1, 48);
  static readonly ML_G6E_8XLARGE = GpuInstanceType.define('ml.g6e.8xlarge', 1, 48);
  static readonly ML_G6E_12XLARGE = GpuInstanceType.define('ml.g6e.12xlarge', 4, 48);
  static readonly ML_G6E_24XLARGE = GpuInstanceType.define('ml.g6e.24xlarge', 4, 48);
  static readonly ML_G6E_48XLARGE = GpuInstanceType.define('ml.g6e.48xlarge', 8, 48);
  static readonly ML_P4D_24XLARGE = GpuInstanceType.define('ml.p4d.24xlarge', 8, 40);
  static readonly ML_P4DE_24XLARGE = GpuInstanceType.define('ml.p4de.24xlarge', 8, 80);
  static readonly ML_P5_48XLARGE = GpuInstanceType.define('ml.p5.48xlarge', 8, 80);

  private constructor(
    /** The SageMaker name, e.g. `ml.g5.2xlarge`. */
    readonly name: string,
    /** GPUs per instance: SM_NUM_GPUS / tensor parallel degree. */
    readonly gpus: number,
    /** Memory per GPU, GiB. */
    readonly gpuMemoryGiB: number,
  ) {}

  private static define(name: string, gpus: number, gpuMemoryGiB: number): GpuInstanceType {
    const type = new GpuInstanceType(name, gpus, gpuMemoryGiB);
    GpuInstanceType.KNOWN.set(name, type);
    return type;
  }

  /** @throws Error listing the known types when `name` is not one of them. */
  static of(name: string): GpuInstanceType {
    const type = GpuInstanceType.KNOWN.get(name);
    if (!type) {
      throw new Error(
        `instance type '${name}' is not a known SageMaker GPU instance type; use one of ${[...GpuInstanceType.KNOWN.keys()].join(', ')}`,
      );
    }
    return type;
  }

  static names(): string[] {
    return [...GpuInstanceType.KNOWN.keys()];
  }
}
