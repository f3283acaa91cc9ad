// Preloaded (node --import) into an ingest under test: the mqtt.js it loads reports a release other
// than the one the PUBACK patch was checked against, as a second installed copy would.
import { MqttClient } from "mqtt";

MqttClient.VERSION = "5.17.0";
