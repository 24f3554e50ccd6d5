// The VPC endpoints a sink needs, one per service per VPC, each with a policy that allows only the
// sink's roles on the sink's resources:
// - in the Kafka cluster's VPC, for the event pollers: the on-failure destination (AWS requires its
//   endpoint there: an S3 gateway endpoint, or SQS) and Secrets Manager when the source signs in with
//   a secret;
// - in the functions' VPC: DynamoDB (gateway), Secrets Manager, SQS for outcome queues, Step Functions
//   for bulk mappings.
// Salesforce itself is reached through a NAT gateway or an HTTP(S) proxy, never an endpoint.
import { Names, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export type GatewayService = 's3' | 'dynamodb';
export type InterfaceService = 'sqs' | 'secretsmanager' | 'states';

/** What one set of clients (the pollers, or the functions) needs in its VPC. */
export interface EndpointNeed {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Who connects to the interface endpoints (port 443). */
  readonly clients: ec2.IConnectable[];
  /** The endpoint policy's statements, by service; each names its principals and resources. */
  readonly services: Partial<Record<GatewayService | InterfaceService, iam.PolicyStatement[]>>;
}

const GATEWAY: Record<GatewayService, ec2.GatewayVpcEndpointAwsService> = {
  s3: ec2.GatewayVpcEndpointAwsService.S3,
  dynamodb: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
};
const INTERFACE: Record<InterfaceService, ec2.InterfaceVpcEndpointAwsService> = {
  sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  secretsmanager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  states: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
};
const isGateway = (service: string): service is GatewayService => service in GATEWAY;

/**
 * Creates the endpoints the needs add up to: needs in the same VPC share one endpoint per service
 * (an interface endpoint takes the subnets of the first need, at most one per zone).
 *
 * @example
 * new SinkEndpoints(this, 'Endpoints', { needs: [{ vpc, subnets, clients: [fn], services: { dynamodb: [statement] } }] });
 */
export class SinkEndpoints extends Construct {
  /** The created endpoints, by `<vpc>/<service>`. */
  readonly endpoints: Record<string, ec2.GatewayVpcEndpoint | ec2.InterfaceVpcEndpoint> = {};

  constructor(scope: Construct, id: string, props: { needs: EndpointNeed[] }) {
    super(scope, id);
    const byVpc = new Map<string, EndpointNeed[]>();
    for (const need of props.needs) {
      const key = Token.isUnresolved(need.vpc.vpcId) ? Names.nodeUniqueId(need.vpc.node) : need.vpc.vpcId;
      byVpc.set(key, [...(byVpc.get(key) ?? []), need]);
    }
    for (const [vpcKey, needs] of byVpc) {
      const first = needs[0]!;
      const services = new Set(needs.flatMap((n) => Object.keys(n.services))) as Set<
        GatewayService | InterfaceService
      >;
      for (const service of services) {
        const statements = needs.flatMap((n) => n.services[service] ?? []);
        const endpointId = `${vpcKey}-${service}`;
        if (isGateway(service)) {
          const endpoint = new ec2.GatewayVpcEndpoint(this, endpointId, {
            vpc: first.vpc,
            service: GATEWAY[service],
            subnets: needs.map((n) => n.subnets),
          });
          for (const statement of statements) endpoint.addToPolicy(statement);
          this.endpoints[`${vpcKey}/${service}`] = endpoint;
        } else {
          const endpoint = new ec2.InterfaceVpcEndpoint(this, endpointId, {
            vpc: first.vpc,
            service: INTERFACE[service],
            subnets: needs.find((n) => n.services[service])!.subnets,
            privateDnsEnabled: true,
            open: false,
          });
          const clients = new Set(needs.filter((n) => n.services[service]).flatMap((n) => n.clients));
          for (const client of clients) {
            endpoint.connections.allowDefaultPortFrom(client, `sfsink clients of ${service}`);
          }
          for (const statement of statements) endpoint.addToPolicy(statement);
          this.endpoints[`${vpcKey}/${service}`] = endpoint;
        }
      }
    }
  }
}
