/**
 * Every id tripline accepts (tenant, device, vehicle, driver, policy): device ids are MQTT client
 * ids and topic levels, so no separators or wildcards; the same rule everywhere keeps ids safe to
 * put in topics, URLs and logs.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ID_RULE = '1-64 of A-Z a-z 0-9 _ -';
