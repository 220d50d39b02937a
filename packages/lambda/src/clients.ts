import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PinpointSMSVoiceV2Client } from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { once } from "./once.ts";

/**
 * The one place AWS clients are built: once per process, reused by every invocation. The SDK
 * reads each endpoint itself from `AWS_ENDPOINT_URL_<SERVICE ID>` (the service id upper-cased,
 * spaces as `_`: `AWS_ENDPOINT_URL_DYNAMODB`, `_SQS`, `_SESV2`, `_PINPOINT_SMS_VOICE_V2`, `_SSM`),
 * which the local runtime points at its emulators; on AWS they are unset. A new client is one line.
 */
const options = () => ({ region: process.env.AWS_REGION ?? "us-east-1", maxAttempts: 3 });

export const clients = {
  dynamodb: once(() => new DynamoDBClient(options())),
  // By default the SQS client sends to the queue URL's host whenever it differs from the endpoint;
  // fauxqs names its queues `sqs.<region>.localhost`, which not every resolver finds. The endpoint
  // is the regional one on AWS (where queue URLs name it too) and the emulator's locally.
  sqs: once(() => new SQSClient({ ...options(), useQueueUrlAsEndpoint: false })),
  /** Email (SES v2). */
  sesv2: once(() => new SESv2Client(options())),
  /** SMS (AWS End User Messaging SMS, `pinpoint-sms-voice-v2`). */
  sms: once(() => new PinpointSMSVoiceV2Client(options())),
  ssm: once(() => new SSMClient(options())),
  sns: once(() => new SNSClient(options())),
  sfn: once(() => new SFNClient(options())),
};
