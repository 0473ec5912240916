// Type tests of the published API (dist/model/index.d.ts), run by tsd.
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import {
  Event, VcpuId, Vector, Gsi, makeSystem, VectorSet, type EventOf, type SystemState, type SystemModel,
  type Property, type VcpuState,
} from '../../dist/model/index.js'

declare const model: SystemModel
declare const s: SystemState
declare const e: Event

// 1. The root reducer keeps its type: not undefined, not any.
expectType<SystemState>(model.reduce(s, e))
expectType<ReadonlyArray<Event>>(model.enabled(s))
expectType<SystemModel>(makeSystem(model.config))

// 2. The event union is closed.
expectError(model.reduce(s, { _tag: 'NotAnEvent' }))
expectError(model.reduce(s, { _tag: 'VcpuEntered' }))
expectError(Event.VcpuEntered({ vcpu: 3 }))

// 3. Constructors return the narrow variant.
expectType<EventOf<'VcpuEntered'>>(Event.VcpuEntered({ vcpu: VcpuId.make(0) }))
expectType<EventOf<'LineAsserted'>>(Event.LineAsserted({ source: 0 }))

// 4. match is exhaustive and infers its result.
expectError(Event.match(e, { VcpuEntered: () => 1 }))

// 5. States are deeply readonly.
expectError((s.vcpus = s.vcpus))
expectError((s.vcpus.items[0]!.ifFlag = false))
expectError(s.vcpus.items.push({} as VcpuState))
expectError((s.lapics.items[0]!.irr = VectorSet.empty))
expectError((s.lapics.items[0]!.irr.words[0] = 1))

// 6. Branded ids do not mix.
expectNotAssignable<VcpuId>(3)
expectNotAssignable<Vector>(VcpuId.make(1))
expectNotAssignable<Gsi>(Vector.make(0x30))
expectAssignable<VcpuId>(VcpuId.make(3))

// 7. Property signatures.
expectAssignable<Property<SystemState>>({ name: 'x', expectation: 'always', description: '', source: '', holds: (_: SystemState) => true })
expectNotAssignable<Property<SystemState>>({ name: 'x', expectation: 'usually', description: '', source: '', holds: (_: SystemState) => true })
