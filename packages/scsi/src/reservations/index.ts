// Public names of the reservations module (SPC-4 5.9 persistent reservations, SPC-2 RESERVE/RELEASE).
export { Reservations } from './reservations.js'
export type { ReservationStore, ReservationsOptions } from './reservations.js'
export { PrInServiceAction, PrOutServiceAction, PrType, PR_TYPE_TRAITS } from './pr-codes.js'
export type { PrInServiceActionName, PrOutServiceActionName, PrTypeName, PrTypeValue, PrTypeTraits } from './pr-codes.js'
export { ACCESS_TABLE, accessRule } from './access-table.js'
export type { AccessRule, PrAccess, Spc2Access } from './access-table.js'
export { ProtocolId, decodeTransportId, encodeIscsiTransportId } from './transport-id.js'
export type { InitiatorIdentity, TransportId } from './transport-id.js'
