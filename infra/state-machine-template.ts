// Reads the bulk job state machine's definition back out of a synthesized CloudFormation template, so
// the local runtime and the tests run exactly what `cdk deploy` would deploy (aws-local-stepfunctions),
// not a second copy of the definition.

/** What an intrinsic (e.g. the poller's `Fn::GetAtt … Arn`) becomes: a Lambda ARN naming the resource. */
export function placeholderArn(logicalId: string): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function resolve(value: Json, where: string): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return placeholderArn(getAtt[0]);
    const ref = value.Ref;
    if (typeof ref === 'string')
      return ref.startsWith('AWS::') ? ref.slice('AWS::'.length).toLowerCase() : placeholderArn(ref);
    const join = value['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return join[1].map((part) => resolve(part, where)).join(join[0]);
    }
  }
  throw new Error(
    `${where}: cannot resolve ${JSON.stringify(value)} (only strings, Fn::Join, Fn::GetAtt and Ref)`,
  );
}

/**
 * The Amazon States Language definition of the template's state machine, with every reference to
 * another resource (the poller function's ARN) replaced by `placeholderArn(logicalId)`.
 *
 * @example
 * const template = Template.fromStack(stack).toJSON();
 * const definition = stateMachineDefinitionFromTemplate(template);
 * new StateMachine(definition, { validationOptions: { checkArn: false } });
 */
export function stateMachineDefinitionFromTemplate(
  template: { Resources?: Record<string, { Type?: string; Properties?: Record<string, Json> }> },
  logicalId?: string,
): Record<string, unknown> {
  const machines = Object.entries(template.Resources ?? {}).filter(
    ([id, r]) =>
      r.Type === 'AWS::StepFunctions::StateMachine' && (logicalId === undefined || id === logicalId),
  );
  if (machines.length !== 1) {
    throw new Error(
      `expected one AWS::StepFunctions::StateMachine${logicalId ? ` with logical id ${logicalId}` : ''}, found ${machines.length}: pass its logical id`,
    );
  }
  const [id, machine] = machines[0]!;
  const properties = machine.Properties ?? {};
  let text: string;
  if (properties.DefinitionString !== undefined)
    text = resolve(properties.DefinitionString, `${id}.DefinitionString`);
  else if (properties.Definition !== undefined) text = JSON.stringify(properties.Definition);
  else
    throw new Error(
      `${id} has neither DefinitionString nor Definition (an S3 definition cannot be read back)`,
    );
  const substitutions = (properties.DefinitionSubstitutions ?? {}) as Record<string, Json>;
  for (const [key, value] of Object.entries(substitutions)) {
    text = text.replaceAll(`\${${key}}`, resolve(value, `${id}.DefinitionSubstitutions.${key}`));
  }
  return JSON.parse(text) as Record<string, unknown>;
}
