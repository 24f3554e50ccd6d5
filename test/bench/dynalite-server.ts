// dynalite with the sink's table in a process of its own; prints {"endpoint","table"} when ready and
// runs until SIGTERM/SIGINT.
import { startLocalDynamo } from '../../local/stand-ins/dynamodb.ts';

const dynamo = await startLocalDynamo();
process.stdout.write(`${JSON.stringify({ endpoint: dynamo.endpoint, table: dynamo.table })}\n`);
const stop = () => {
  dynamo.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
