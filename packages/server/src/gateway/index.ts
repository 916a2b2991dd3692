export { createGatewayService, type GatewayService, type GatewayServiceDeps } from "./gateway-service.js";
export { gatewaySecretNames, type GatewaySecrets, type GatewaySessions, type GatewayUsage } from "./gateway.js";
export { gatewayAPIs, type GatewayAPI, type GatewayConfig } from "./gateway-config.js";
