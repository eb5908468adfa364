import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every Prometheus metric of one process, in its own registry (tests run several platforms in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    messagesReceived: new Counter({ name: 'tripline_messages_received_total', help: 'MQTT PUBLISH packets received from devices (each ends accepted or rejected under a reason)', registers: [registry] }),
    messagesRejected: new Counter({ name: 'tripline_messages_rejected_total', help: 'Messages rejected by ingest, by reason', labelNames: ['reason'], registers: [registry] }),
    connectsRefused: new Counter({ name: 'tripline_mqtt_connects_refused_total', help: 'MQTT connections refused at CONNECT, by reason', labelNames: ['reason'], registers: [registry] }),
    subscribesDenied: new Counter({ name: 'tripline_mqtt_subscribes_denied_total', help: 'Subscriptions refused (not the device\'s own downlink topic)', registers: [registry] }),
    protocolErrors: new Counter({ name: 'tripline_mqtt_protocol_errors_total', help: 'MQTT connections closed for breaking the protocol (malformed packets, keepalive timeouts)', registers: [registry] }),
    messagesThrottled: new Counter({ name: 'tripline_messages_throttled_total', help: 'QoS 1 messages over their device\'s rate whose PUBACK waited for its turn', registers: [registry] }),
    messagesAccepted: new Counter({ name: 'tripline_messages_accepted_total', help: 'Messages durable on the bus', registers: [registry] }),
    pointsReceived: new Counter({ name: 'tripline_points_received_total', help: 'Points in messages durable on the bus', registers: [registry] }),
    pointsConsumed: new Counter({ name: 'tripline_points_consumed_total', help: 'Points the trip worker has taken off the bus (stored, filtered, or waiting in a reorder buffer)', registers: [registry] }),
    pointsStored: new Counter({ name: 'tripline_points_stored_total', help: 'Points written to the write store', registers: [registry] }),
    pointsFiltered: new Counter({ name: 'tripline_points_filtered_total', help: 'Points removed by cleaning (never stored or scored), by reason', labelNames: ['reason'], registers: [registry] }),
    enrichmentFailures: new Counter({ name: 'tripline_enrichment_failures_total', help: 'Failed enrichment lookups (the trip completes without them), by enricher', labelNames: ['enricher'], registers: [registry] }),
    alertsRaised: new Counter({ name: 'tripline_alerts_total', help: 'Alerts raised and committed to the alert outbox, by type', labelNames: ['type'], registers: [registry] }),
    alertDeliveries: new Counter({ name: 'tripline_alert_deliveries_total', help: 'Alert deliveries by channel (webhook, mqtt, sse) and outcome (sent, failed: an attempt that will be retried, dead_letter: the last attempt failed)', labelNames: ['channel', 'outcome'], registers: [registry] }),
    alertLatencySeconds: new Histogram({ name: 'tripline_alert_latency_seconds', help: 'From MQTT receipt of the point that raised an alert to its delivery, by channel', labelNames: ['channel'], buckets: latencyBuckets, registers: [registry] }),
    tripsChanged: new Counter({ name: 'tripline_trip_changes_total', help: 'Trip documents written to the outbox', registers: [registry] }),
    workerErrors: new Counter({ name: 'tripline_worker_errors_total', help: 'Trip worker batches that failed and will be retried', registers: [registry] }),
    activeTrips: new Gauge({ name: 'tripline_active_trips', help: 'Trips open right now', registers: [registry] }),
    // Each trip worker measures the partitions it consumes. Offsets count over the whole bus, so a
    // worker's backlog (head minus its slowest position) is an upper bound: take the max over workers, not the sum.
    busLagSeconds: new Gauge({ name: 'tripline_bus_lag_seconds', help: 'Now minus when the oldest message not yet consumed in this trip worker\'s partitions was appended to the bus (0 when none waits)', registers: [registry] }),
    busBacklog: new Gauge({ name: 'tripline_bus_backlog_messages', help: 'Bus messages not yet consumed in this trip worker\'s partitions (upper bound)', registers: [registry] }),
    ingestBacklog: new Gauge({ name: 'tripline_ingest_backlog_messages', help: 'Cluster ingest\'s back-pressure: bus messages not yet consumed over every partition (upper bound); acknowledgements wait while it is above TRIPLINE_MAX_BUS_BACKLOG', registers: [registry] }),
    syncLagSeconds: new Gauge({ name: 'tripline_sync_lag_seconds', help: 'Newest change written minus newest change indexed', registers: [registry] }),
    syncPending: new Gauge({ name: 'tripline_sync_pending_changes', help: 'Outbox changes not yet in the search store', registers: [registry] }),
    stageSeconds: new Histogram({ name: 'tripline_stage_seconds', help: 'Time spent per pipeline stage and batch', labelNames: ['stage'], buckets: latencyBuckets, registers: [registry] }),
    ingestToStoredSeconds: new Histogram({ name: 'tripline_ingest_to_stored_seconds', help: 'From MQTT receipt to the write store commit', buckets: latencyBuckets, registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
