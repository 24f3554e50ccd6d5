declare module 'asl-validator' {
  export default function aslValidator(
    definition: unknown,
    options?: Record<string, unknown>,
  ): Promise<{ isValid: boolean; errors: unknown[] }>;
}
