/**
 * virq's public model API: the x86 interrupt substrate as pure reducers.
 * See README.md ("The model") for a walk through one interrupt.
 */
export * from './ids.js'
export { Event, eventTags, formatEvent, actorOf, type EventTag, type EventOf } from './Event.js'
export * from './System.js'
export * from './Vcpu.js'
export { VectorSet } from './core/VectorSet.js'
export { Table } from './core/Table.js'
export { hashStats, hashHex, type Hashed } from './core/hash.js'
export type { PicEvent, IoapicEvent, LapicEvent, DeliveryMode, LapicReg, PicPort } from './devices/events.js'
export type { LapicMessage } from './devices/message.js'
export type { Property, StateProperty, StepProperty, Expectation } from '../invariants/Property.js'
export { substrateProperties } from '../invariants/substrate.js'
