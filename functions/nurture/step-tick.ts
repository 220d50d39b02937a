import { clock, dueStepSender, logger, nurtureStore, scheduledHandler } from "@leadflow/lambda";

/** Every 5 minutes: the nurture steps due by now (the due index, nothing else) go to the nurture queue. */
export const handler = scheduledHandler(async () => {
  let queued = 0;
  for await (const due of nurtureStore().dueSteps(clock.nowIso())) {
    await dueStepSender()(due);
    queued += due.length;
  }
  // Every 5 minutes: an idle tick logs at debug level only.
  if (queued > 0) logger.info("Nurture steps queued", { queued });
  else logger.debug("No nurture step due");
  return { queued };
});
