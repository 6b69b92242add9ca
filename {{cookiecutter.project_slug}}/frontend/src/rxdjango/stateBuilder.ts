import { isInstanceId } from './protocol';
import type {
  ChannelModel,
  FlatInstance,
  InstanceId,
  UnloadedInstance,
  WritableDeclaration,
} from './types';

/** A nested instance of the built state. */
export type BuiltInstance = Record<string, unknown>;

/**
 * The write methods that the builder attaches to the built state, as non-enumerable
 * properties: `save` and `delete` on the objects of the instance types that `writable`
 * allows them on, and `create` on the relation arrays whose child type allows it.
 */
export interface WriteMethods {
  readonly writable: WritableDeclaration;
  save(instanceType: string, id: InstanceId, data: Record<string, unknown>): Promise<void>;
  delete(instanceType: string, id: InstanceId): Promise<void>;
  create(
    instanceType: string,
    parentType: string,
    parentId: InstanceId,
    relationName: string,
    data?: Record<string, unknown>,
  ): Promise<unknown>;
}

/** A nested serializer field of an instance type. */
interface Relation {
  field: string;
  childType: string;
  many: boolean;
  /** True when the child type allows create, so the field's arrays get a `create` method. */
  creatable: boolean;
}

type Reference = InstanceNode | InstanceNode[] | null;

/** A create that the server has not confirmed, shown as a temporary node in a relation of its parent. */
interface PendingCreate {
  readonly writeId: number;
  readonly temporary: InstanceNode;
  readonly parent: InstanceNode;
  readonly relation: Relation;
  /** The id that the server gave the instance, once its response arrived. */
  createdId: InstanceId | undefined;
}

/**
 * An optimistic change that one pending write makes to one node. A `fields` overlay carries
 * a save's values, which replace the server's until it sends its own. A `temporary` overlay
 * is the whole instance of a temporary node, which exists only through it. An `added`
 * overlay adds a create's instance to a relation of the parent. A `deleted` overlay hides a
 * deleted instance, and an `unlinked` overlay removes a parent's references to it.
 */
type Overlay =
  | { kind: 'fields'; writeId: number; fields: Record<string, unknown> }
  | { kind: 'temporary'; writeId: number; instance: FlatInstance }
  | { kind: 'added'; writeId: number; create: PendingCreate }
  | { kind: 'deleted'; writeId: number }
  | { kind: 'unlinked'; writeId: number; child: InstanceNode };

interface InstanceMethods {
  save: (data: Record<string, unknown>) => Promise<void>;
  delete: () => Promise<void>;
}

/** Keys of a flat instance that are not serializer fields. */
const META_FIELDS: ReadonlySet<string> = new Set(['id', '_instance_type', '_tstamp', '_operation']);

/** One instance in the builder's table: received, referenced but not received yet, deleted, or temporary. */
interface InstanceNode {
  readonly type: string;
  readonly id: InstanceId;
  /** The instance as the server sent it, with deltas merged. It is undefined until received and after a delete. */
  server: FlatInstance | undefined;
  /** Optimistic changes of pending writes, oldest first. */
  overlays: Overlay[];
  /** `server` with the overlays applied, which the built state shows. Undefined when there is nothing to show. */
  flat: FlatInstance | undefined;
  /** The nested object for `flat`. It is replaced, never mutated, when the instance or a descendant changes. */
  built: BuiltInstance | undefined;
  placeholder: UnloadedInstance | undefined;
  /** The referenced nodes, one entry per relation of the type, in the order of `relationsOf(type)`. */
  references: Reference[];
  /** `references` as they were when `built` was assembled. A list's array is replaced whenever the list changes. */
  builtReferences: Reference[];
  /** Nodes that reference this one, with the number of references each holds. */
  parents: Map<InstanceNode, number>;
  /** The `_tstamp` of the delete that removed this instance. */
  deletedTstamp: number | undefined;
  /** The rebuild pass that marked this node as changed or as an ancestor of a change. */
  dirtyPass: number;
  /** The rebuild pass that last rebuilt this node. */
  builtPass: number;
  /** The `save` and `delete` functions of this instance, created when first attached. */
  methods: InstanceMethods | undefined;
  /** The `create` functions of this node's relation arrays, by field name. */
  creators: Map<string, (data?: Record<string, unknown>) => Promise<unknown>> | undefined;
}

/**
 * Keeps the flat instances of a channel and builds its nested state.
 *
 * Every node records which nodes reference it, so applying a change rebuilds only the
 * changed instances and their ancestors, each once per batch. Everything else keeps its
 * object identity, which lets React skip unchanged subtrees.
 *
 * Pending writes show as overlays on top of the server's instances. Each node keeps the
 * server's version apart from the overlays, so dropping the overlays of one write restores
 * exactly what that write changed and leaves the other writes in place.
 */
export class StateBuilder<TState = BuiltInstance> {
  readonly model: ChannelModel;

  private readonly nodes = new Map<string, Map<InstanceId, InstanceNode>>();
  private readonly relations = new Map<string, Relation[]>();
  private readonly writeMethods: WriteMethods | undefined;
  /** Whether `save` and `delete` are allowed, for the instance types that allow either. */
  private readonly instanceWrites = new Map<string, { save: boolean; delete: boolean }>();
  /** The nodes that carry overlays of each pending write. */
  private readonly writeNodes = new Map<number, Set<InstanceNode>>();
  private readonly creates = new Map<number, PendingCreate>();
  private anchorIds: InstanceId[] = [];
  private anchorSet = new Set<InstanceId>();
  private readonly loadedAnchors = new Set<InstanceId>();
  private anchorsListed = false;
  private pass = 0;
  private roots: TState[] = [];
  private rootsStale = true;

  /** Creates a builder whose state objects get write methods from `writeMethods`, or none without it. */
  constructor(model: ChannelModel, writeMethods?: WriteMethods) {
    this.model = model;
    this.writeMethods = writeMethods;
    const writable = writeMethods?.writable ?? {};
    for (const [type, fields] of Object.entries(model.layers)) {
      const lists = new Set(model.lists[type] ?? []);
      this.relations.set(
        type,
        Object.entries(fields).map(([field, childType]) => ({
          field,
          childType,
          many: lists.has(field),
          creatable: lists.has(field) && (writable[childType]?.includes('create') ?? false),
        })),
      );
    }
    for (const [type, operations] of Object.entries(writable)) {
      const allowed = { save: operations.includes('save'), delete: operations.includes('delete') };
      if (allowed.save || allowed.delete) {
        this.instanceWrites.set(type, allowed);
      }
    }
  }

  // Reading the state

  /** The anchor's nested state, or for a list channel the received anchors in anchor order. */
  get state(): TState | TState[] | undefined {
    if (this.model.many) {
      return this.listState();
    }
    const anchorId = this.anchorIds[0];
    if (anchorId === undefined) {
      return undefined;
    }
    return this.findNode(this.model.anchor, anchorId)?.built as TState | undefined;
  }

  /** The nested object of one instance, or undefined when it has not been received. */
  getInstance<T = BuiltInstance>(instanceType: string, id: InstanceId): T | undefined {
    return this.findNode(instanceType, id)?.built as T | undefined;
  }

  /** Returns the held flat instance, with deltas merged and the overlays of pending writes applied. */
  getFlat(instanceType: string, id: InstanceId): FlatInstance | undefined {
    return this.findNode(instanceType, id)?.flat;
  }

  get anchors(): readonly InstanceId[] {
    return this.anchorIds;
  }

  /** True when the server listed the anchors and there are none. */
  get empty(): boolean {
    return this.anchorsListed && this.anchorIds.length === 0;
  }

  /** True when every listed anchor has finished its initial load. */
  get loaded(): boolean {
    return this.anchorsListed && this.anchorIds.every((id) => this.loadedAnchors.has(id));
  }

  // Anchors

  /** Sets the anchor list, dropping the instances of anchors no longer listed. */
  setAnchors(ids: readonly InstanceId[]): void {
    const kept = new Set(ids);
    for (const id of this.anchorIds) {
      if (!kept.has(id)) {
        this.dropAnchor(id);
      }
    }
    this.anchorIds = [...new Set(ids)];
    this.anchorSet = kept;
    this.anchorsListed = true;
    this.rootsStale = true;
  }

  prependAnchor(id: InstanceId): void {
    if (!this.anchorSet.has(id)) {
      this.anchorIds = [id, ...this.anchorIds];
      this.anchorSet.add(id);
      this.rootsStale = true;
    }
  }

  appendAnchor(id: InstanceId): void {
    if (!this.anchorSet.has(id)) {
      this.anchorIds = [...this.anchorIds, id];
      this.anchorSet.add(id);
      this.rootsStale = true;
    }
  }

  removeAnchor(id: InstanceId): void {
    if (this.anchorSet.has(id)) {
      this.anchorIds = this.anchorIds.filter((anchorId) => anchorId !== id);
      this.dropAnchor(id);
      this.rootsStale = true;
    }
  }

  clearAnchors(): void {
    const removed = this.anchorIds;
    this.anchorIds = [];
    for (const id of removed) {
      this.dropAnchor(id);
    }
    this.rootsStale = true;
  }

  markAnchorLoaded(id: InstanceId): void {
    this.loadedAnchors.add(id);
  }

  // Applying instances

  /**
   * Applies a batch of flat instances (initial state, creates, updates, deltas and deletes)
   * and returns whether the state changed. Instances older than the held version are ignored.
   */
  applyInstances(instances: readonly FlatInstance[]): boolean {
    const changed: InstanceNode[] = [];
    for (const instance of instances) {
      if (instance._operation === 'delete') {
        this.applyDelete(instance, changed);
      } else {
        this.applyFlat(instance, changed);
      }
    }
    if (this.creates.size > 0) {
      this.settleCreates(changed);
    }
    return this.rebuildChanged(changed);
  }

  private applyFlat(instance: FlatInstance, changed: InstanceNode[]): void {
    const node = this.nodeFor(instance._instance_type, instance.id);
    const held = node.server;
    if (held !== undefined && instance._tstamp < held._tstamp) {
      return;
    }
    if (node.deletedTstamp !== undefined && instance._tstamp <= node.deletedTstamp) {
      return;
    }

    const next: FlatInstance =
      instance._operation === 'update' && held !== undefined
        ? { ...held, ...instance }
        : { ...instance };
    const optimistic = node.overlays.length > 0;
    const replaced = optimistic && this.replaceOptimisticFields(node, instance, held);
    if (held !== undefined && sameFields(held, next) && !replaced) {
      return;
    }

    node.server = next;
    node.deletedTstamp = undefined;
    if (optimistic) {
      this.refresh(node, changed);
      return;
    }
    // Without overlays the node shows the server's instance, which differs from the held one.
    node.flat = next;
    this.linkReferences(node);
    changed.push(node);
  }

  private applyDelete(instance: FlatInstance, changed: InstanceNode[]): void {
    const node = this.nodeFor(instance._instance_type, instance.id);
    const held = node.server;
    if (held !== undefined && instance._tstamp < held._tstamp) {
      return;
    }
    node.deletedTstamp = Math.max(node.deletedTstamp ?? instance._tstamp, instance._tstamp);

    // The server deleted the instance, so pending deletes of it have nothing left to show.
    const deletes = node.overlays.filter((overlay) => overlay.kind === 'deleted');
    for (const overlay of deletes) {
      this.removeWriteOverlays(overlay.writeId, changed);
    }
    if (held === undefined) {
      return;
    }

    node.server = undefined;
    for (const parent of [...node.parents.keys()]) {
      if (parent.server !== undefined) {
        parent.server = this.withoutReferencesTo(parent.type, parent.server, node);
      }
      this.refresh(parent, changed);
    }
    this.refresh(node, changed);
  }

  /**
   * Lets the fields of an instance from the server replace the values of pending saves.
   * A value equal to a pending save's confirms that save and every older one, because the
   * server applies the writes of one connection in order, so newer saves keep showing. Any
   * other new value replaces the field in every pending save. A field sent again with its
   * held value replaces nothing. Returns whether an overlay changed.
   */
  private replaceOptimisticFields(
    node: InstanceNode,
    incoming: FlatInstance,
    held: FlatInstance | undefined,
  ): boolean {
    const saves = node.overlays.filter((overlay) => overlay.kind === 'fields');
    if (saves.length === 0) {
      return false;
    }

    let replaced = false;
    for (const key in incoming) {
      if (META_FIELDS.has(key)) continue;
      const value = incoming[key];
      let last = -1;
      saves.forEach((save, index) => {
        if (key in save.fields && sameJson(save.fields[key], value)) last = index;
      });
      if (last === -1) {
        if (held !== undefined && sameJson(held[key], value)) continue;
        last = saves.length - 1;
      }
      for (const save of saves.slice(0, last + 1)) {
        if (key in save.fields) {
          delete save.fields[key];
          replaced = true;
        }
      }
    }

    for (const save of saves) {
      if (Object.keys(save.fields).length === 0) {
        this.removeOverlay(node, save);
      }
    }
    return replaced;
  }

  // Optimistic writes

  /**
   * Shows the fields of a save at once, until the server sends its own values for them or
   * the write is dropped. Nested relation fields, `id` and undefined values are left out.
   * Returns whether the state changed.
   */
  saveOptimistically(
    writeId: number,
    instanceType: string,
    id: InstanceId,
    data: Record<string, unknown>,
  ): boolean {
    const node = this.findNode(instanceType, id);
    const fields = this.writableFields(instanceType, data);
    if (node === undefined || node.flat === undefined || Object.keys(fields).length === 0) {
      return false;
    }

    const changed: InstanceNode[] = [];
    this.addOverlay(node, { kind: 'fields', writeId, fields });
    this.refresh(node, changed);
    return this.rebuildChanged(changed);
  }

  /**
   * Shows a created instance at once: a temporary node with id `temporaryId` holding the
   * data, added to the parent's relation. Once `setCreatedId` has named the server's
   * instance, that instance replaces the temporary one as soon as it arrives. Returns
   * whether the state changed.
   */
  createOptimistically(
    writeId: number,
    instanceType: string,
    temporaryId: InstanceId,
    data: Record<string, unknown>,
    parentType: string,
    parentId: InstanceId,
    relationName: string,
  ): boolean {
    const relation = this.relationsOf(parentType).find(
      (candidate) => candidate.field === relationName && candidate.childType === instanceType,
    );
    if (relation === undefined) {
      return false;
    }

    const instance: FlatInstance = {
      id: temporaryId,
      _instance_type: instanceType,
      _tstamp: 0,
      _operation: 'create',
      ...this.writableFields(instanceType, data),
    };
    for (const childRelation of this.relationsOf(instanceType)) {
      instance[childRelation.field] = childRelation.many ? [] : null;
    }
    const temporary = this.nodeFor(instanceType, temporaryId);
    const parent = this.nodeFor(parentType, parentId);
    const create: PendingCreate = { writeId, temporary, parent, relation, createdId: undefined };
    this.creates.set(writeId, create);
    this.addOverlay(temporary, { kind: 'temporary', writeId, instance });
    this.addOverlay(parent, { kind: 'added', writeId, create });

    const changed: InstanceNode[] = [];
    this.refresh(temporary, changed);
    this.refresh(parent, changed);
    return this.rebuildChanged(changed);
  }

  /**
   * Removes an instance from the state at once, from every relation that contains it, until
   * the server deletes it or the write is dropped. Returns whether the state changed.
   */
  deleteOptimistically(writeId: number, instanceType: string, id: InstanceId): boolean {
    const node = this.findNode(instanceType, id);
    if (node === undefined || node.flat === undefined) {
      return false;
    }

    const parents = [...node.parents.keys()];
    this.addOverlay(node, { kind: 'deleted', writeId });
    for (const parent of parents) {
      this.addOverlay(parent, { kind: 'unlinked', writeId, child: node });
    }
    const changed: InstanceNode[] = [];
    for (const parent of parents) {
      this.refresh(parent, changed);
    }
    this.refresh(node, changed);
    return this.rebuildChanged(changed);
  }

  /** Records the id that the server gave the instance of a pending create. Returns whether the state changed. */
  setCreatedId(writeId: number, id: InstanceId): boolean {
    const create = this.creates.get(writeId);
    if (create === undefined) {
      return false;
    }
    create.createdId = id;
    const changed: InstanceNode[] = [];
    this.settleCreates(changed);
    return this.rebuildChanged(changed);
  }

  /**
   * Removes every overlay of a write, which rolls back what it shows and nothing else.
   * Returns whether the state changed.
   */
  dropWrite(writeId: number): boolean {
    const changed: InstanceNode[] = [];
    this.removeWriteOverlays(writeId, changed);
    return this.rebuildChanged(changed);
  }

  /** True while the state shows an overlay of the write. */
  hasWrite(writeId: number): boolean {
    return this.writeNodes.has(writeId);
  }

  /** Returns the fields of write data that an overlay may show. */
  private writableFields(
    instanceType: string,
    data: Record<string, unknown>,
  ): Record<string, unknown> {
    const nested = new Set(this.relationsOf(instanceType).map((relation) => relation.field));
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data)) {
      if (value !== undefined && !META_FIELDS.has(key) && !nested.has(key)) {
        fields[key] = value;
      }
    }
    return fields;
  }

  /**
   * Replaces temporary instances whose server instance has arrived, and drops the overlays
   * of creates whose instance the server's state of the parent now contains.
   */
  private settleCreates(changed: InstanceNode[]): void {
    for (const create of [...this.creates.values()]) {
      const { createdId, parent, relation, temporary, writeId } = create;
      if (createdId === undefined) continue;
      const arrived = this.findNode(relation.childType, createdId)?.server !== undefined;
      const listed =
        parent.server !== undefined && holdsReference(parent.server[relation.field], createdId);
      if (!arrived && !listed) continue;

      const temporaryOverlay = temporary.overlays.find((overlay) => overlay.writeId === writeId);
      if (arrived && temporaryOverlay !== undefined) {
        this.removeOverlay(temporary, temporaryOverlay);
      }
      const addedOverlay = parent.overlays.find((overlay) => overlay.writeId === writeId);
      if (listed && addedOverlay !== undefined) {
        this.removeOverlay(parent, addedOverlay);
      }
      this.refresh(parent, changed);
      this.refresh(temporary, changed);
      this.forgetIfUnused(temporary);
    }
  }

  // Overlays

  private addOverlay(node: InstanceNode, overlay: Overlay): void {
    node.overlays.push(overlay);
    let nodes = this.writeNodes.get(overlay.writeId);
    if (nodes === undefined) {
      nodes = new Set();
      this.writeNodes.set(overlay.writeId, nodes);
    }
    nodes.add(node);
  }

  /** Removes one overlay from a node, and drops the write once none of its overlays is left. */
  private removeOverlay(node: InstanceNode, overlay: Overlay): void {
    node.overlays = node.overlays.filter((candidate) => candidate !== overlay);
    if (node.overlays.some((candidate) => candidate.writeId === overlay.writeId)) {
      return;
    }
    const nodes = this.writeNodes.get(overlay.writeId);
    nodes?.delete(node);
    if (nodes?.size === 0) {
      this.writeNodes.delete(overlay.writeId);
      this.creates.delete(overlay.writeId);
    }
  }

  private removeWriteOverlays(writeId: number, changed: InstanceNode[]): void {
    const nodes = this.writeNodes.get(writeId);
    if (nodes === undefined) {
      return;
    }
    this.writeNodes.delete(writeId);
    this.creates.delete(writeId);
    for (const node of nodes) {
      node.overlays = node.overlays.filter((overlay) => overlay.writeId !== writeId);
    }
    for (const node of nodes) {
      this.refresh(node, changed);
    }
    for (const node of nodes) {
      this.forgetIfUnused(node);
    }
  }

  /**
   * Recomputes what a node shows from its server instance and overlays, and updates its
   * references to match. Adds the node to `changed` when the shown fields changed.
   */
  private refresh(node: InstanceNode, changed: InstanceNode[]): void {
    if (this.findNode(node.type, node.id) !== node) {
      // The node was forgotten, and linking its references would add nodes back.
      return;
    }
    const previous = node.flat;
    const next = this.effectiveFlat(node);
    if (next === previous) {
      return;
    }
    node.flat = next;
    if (next !== undefined && previous !== undefined && sameFields(previous, next)) {
      return;
    }

    if (next === undefined) {
      this.unlinkAll(node);
    } else {
      this.linkReferences(node);
    }
    changed.push(node);
  }

  private effectiveFlat(node: InstanceNode): FlatInstance | undefined {
    let flat = node.server;
    for (const overlay of node.overlays) {
      switch (overlay.kind) {
        case 'temporary':
          flat = overlay.instance;
          break;
        case 'deleted':
          return undefined;
        case 'fields':
          if (flat !== undefined) flat = { ...flat, ...overlay.fields };
          break;
        case 'added':
          if (flat !== undefined) flat = this.withCreated(flat, overlay.create);
          break;
        case 'unlinked':
          if (flat !== undefined) flat = this.withoutReferencesTo(node.type, flat, overlay.child);
          break;
      }
    }
    return flat;
  }

  /**
   * Returns a parent's flat instance with a pending create in its relation: the server's
   * instance once it has arrived, the temporary one until then, and nothing more when the
   * server's relation already contains the created id.
   */
  private withCreated(flat: FlatInstance, create: PendingCreate): FlatInstance {
    const { createdId, relation } = create;
    const value = flat[relation.field];
    if (createdId !== undefined && holdsReference(value, createdId)) {
      return flat;
    }
    const arrived =
      createdId !== undefined && this.findNode(relation.childType, createdId)?.server !== undefined;
    const id = arrived ? createdId : create.temporary.id;
    if (relation.many) {
      const ids: unknown[] = Array.isArray(value) ? value : [];
      return { ...flat, [relation.field]: [...ids, id] };
    }
    return { ...flat, [relation.field]: id };
  }

  /** Returns a flat instance without its references to `child`: removed from lists, null in to-one fields. */
  private withoutReferencesTo(type: string, flat: FlatInstance, child: InstanceNode): FlatInstance {
    let next = flat;
    for (const relation of this.relationsOf(type)) {
      if (relation.childType !== child.type) continue;
      const value = flat[relation.field];
      if (relation.many) {
        if (Array.isArray(value) && value.includes(child.id)) {
          next = { ...next, [relation.field]: value.filter((id) => id !== child.id) };
        }
      } else if (value === child.id) {
        next = { ...next, [relation.field]: null };
      }
    }
    return next;
  }

  // Reverse references

  /** Updates the references of `node` to match its flat fields, keeping the parents index in step. */
  private linkReferences(node: InstanceNode): void {
    const flat = node.flat;
    if (flat === undefined) {
      return;
    }

    this.relationsOf(node.type).forEach((relation, index) => {
      const previous = node.references[index] ?? null;
      const value = flat[relation.field];

      if (relation.many) {
        const ids = Array.isArray(value) ? value.filter(isInstanceId) : [];
        const oldNodes = Array.isArray(previous) ? previous : [];
        if (sameIds(oldNodes, ids)) {
          return;
        }
        const newNodes = ids.map((id) => this.nodeFor(relation.childType, id));
        for (const child of newNodes) this.link(node, child);
        for (const child of oldNodes) this.unlink(node, child);
        node.references[index] = newNodes;
        return;
      }

      const id = isInstanceId(value) ? value : null;
      const oldNode = previous as InstanceNode | null;
      if ((oldNode?.id ?? null) === id) {
        return;
      }
      const newNode = id === null ? null : this.nodeFor(relation.childType, id);
      if (newNode !== null) this.link(node, newNode);
      if (oldNode !== null) this.unlink(node, oldNode);
      node.references[index] = newNode;
    });
  }

  private link(parent: InstanceNode, child: InstanceNode): void {
    child.parents.set(parent, (child.parents.get(parent) ?? 0) + 1);
  }

  private unlink(parent: InstanceNode, child: InstanceNode): void {
    const count = child.parents.get(parent) ?? 0;
    if (count > 1) {
      child.parents.set(parent, count - 1);
      return;
    }
    child.parents.delete(parent);
    this.forgetIfUnused(child);
  }

  /** Forgets a node that nothing references and that has no server instance, overlay or delete to remember. */
  private forgetIfUnused(node: InstanceNode): void {
    if (
      node.server === undefined &&
      node.overlays.length === 0 &&
      node.deletedTstamp === undefined &&
      node.parents.size === 0
    ) {
      this.forget(node);
    }
  }

  /** Removes every reference held by `node`. */
  private unlinkAll(node: InstanceNode): void {
    for (const reference of node.references) {
      if (Array.isArray(reference)) {
        for (const child of reference) this.unlink(node, child);
      } else if (reference !== null) {
        this.unlink(node, reference);
      }
    }
    node.references = this.emptyReferences(node.type);
  }

  /**
   * Forgets an anchor and the instances only it references. The server sends an anchor's
   * whole state again when it is added back, so nothing needed is lost.
   */
  private dropAnchor(id: InstanceId): void {
    this.anchorSet.delete(id);
    this.loadedAnchors.delete(id);
    const node = this.findNode(this.model.anchor, id);
    if (node !== undefined) {
      this.dropUnreferenced(node);
    }
  }

  private dropUnreferenced(node: InstanceNode): void {
    if (node.parents.size > 0 || (node.type === this.model.anchor && this.anchorSet.has(node.id))) {
      return;
    }
    const children = node.references.flatMap((reference) => reference ?? []);
    this.unlinkAll(node);
    this.forget(node);
    for (const child of children) {
      this.dropUnreferenced(child);
    }
  }

  // Building nested objects

  /** Rebuilds the changed nodes and their ancestors, and returns whether there were any. */
  private rebuildChanged(changed: InstanceNode[]): boolean {
    if (changed.length === 0) {
      return false;
    }
    this.rebuild(changed);
    return true;
  }

  /** Rebuilds the changed nodes and all their ancestors, children before parents. */
  private rebuild(changed: InstanceNode[]): void {
    this.pass += 1;
    const pass = this.pass;

    // Marks the changed nodes and their ancestors, and records for each parent which of
    // its children changed, so that rebuilding a parent touches only those positions.
    const dirty: InstanceNode[] = [];
    const changedChildren = new Map<InstanceNode, InstanceNode[]>();
    const stack = [...changed];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.dirtyPass === pass) continue;
      node.dirtyPass = pass;
      dirty.push(node);
      for (const parent of node.parents.keys()) {
        const children = changedChildren.get(parent);
        if (children === undefined) changedChildren.set(parent, [node]);
        else children.push(node);
        if (parent.dirtyPass !== pass) stack.push(parent);
      }
    }

    for (const node of dirty) {
      this.buildNode(node, pass, changedChildren);
      if (node.type === this.model.anchor && this.anchorSet.has(node.id)) {
        this.rootsStale = true;
      }
    }
  }

  private buildNode(
    node: InstanceNode,
    pass: number,
    changedChildren: Map<InstanceNode, InstanceNode[]>,
  ): void {
    if (node.builtPass === pass) {
      return;
    }
    // Set before the children are built, so a reference cycle cannot recurse forever.
    node.builtPass = pass;

    const children = changedChildren.get(node) ?? [];
    for (const child of children) {
      this.buildNode(child, pass, changedChildren);
    }

    node.built = node.flat === undefined ? undefined : this.assemble(node, node.flat, children);
    node.builtReferences = node.built === undefined ? [] : [...node.references];
  }

  private assemble(
    node: InstanceNode,
    flat: FlatInstance,
    changedChildren: InstanceNode[],
  ): BuiltInstance {
    const previous = node.built;
    const built: BuiltInstance = {};
    for (const key in flat) {
      if (key !== '_operation') built[key] = flat[key];
    }

    this.relationsOf(node.type).forEach((relation, index) => {
      const reference = node.references[index] ?? null;
      if (!relation.many) {
        built[relation.field] =
          reference === null || Array.isArray(reference) ? null : this.resolve(reference);
        return;
      }

      const children = Array.isArray(reference) ? reference : [];
      const old = previous?.[relation.field];
      let items =
        Array.isArray(old) && node.builtReferences[index] === reference
          ? this.patchList(old, children, changedChildren, relation.childType)
          : null;
      if (items === null) {
        const resolved = this.resolveList(children);
        items = Array.isArray(old) && sameItems(old, resolved) ? old : resolved;
      }
      if (relation.creatable && items !== old) {
        this.attachCreate(node, relation, items);
      }
      built[relation.field] = items;
    });
    this.attachInstanceMethods(node, built);
    return built;
  }

  // Write methods. They are non-enumerable, so JSON and deep equality see only the fields.

  private attachInstanceMethods(node: InstanceNode, built: BuiltInstance): void {
    const allowed = this.instanceWrites.get(node.type);
    const writeMethods = this.writeMethods;
    if (allowed === undefined || writeMethods === undefined) {
      return;
    }
    node.methods ??= {
      save: (data) => writeMethods.save(node.type, node.id, data),
      delete: () => writeMethods.delete(node.type, node.id),
    };
    // A serializer field with the same name keeps its value.
    if (allowed.save && !('save' in built)) {
      Object.defineProperty(built, 'save', { value: node.methods.save });
    }
    if (allowed.delete && !('delete' in built)) {
      Object.defineProperty(built, 'delete', { value: node.methods.delete });
    }
  }

  private attachCreate(node: InstanceNode, relation: Relation, items: unknown[]): void {
    const writeMethods = this.writeMethods;
    if (writeMethods === undefined) {
      return;
    }
    node.creators ??= new Map();
    let create = node.creators.get(relation.field);
    if (create === undefined) {
      create = (data) =>
        writeMethods.create(relation.childType, node.type, node.id, relation.field, data);
      node.creators.set(relation.field, create);
    }
    Object.defineProperty(items, 'create', { value: create });
  }

  /**
   * Updates a list whose references did not change since it was built, replacing only the
   * positions of changed children. Returns null when the list must be built in full,
   * because an item was skipped (so positions no longer match) or a child was deleted.
   */
  private patchList(
    old: unknown[],
    children: InstanceNode[],
    changedChildren: InstanceNode[],
    childType: string,
  ): unknown[] | null {
    if (old.length !== children.length) {
      return null;
    }
    let items = old;
    for (const child of changedChildren) {
      if (child.type !== childType) continue;
      const value = this.resolve(child);
      if (value === null) {
        return null;
      }
      for (
        let position = children.indexOf(child);
        position !== -1;
        position = children.indexOf(child, position + 1)
      ) {
        if (items[position] === value) continue;
        if (items === old) items = old.slice();
        items[position] = value;
      }
    }
    return items;
  }

  private resolveList(children: InstanceNode[]): unknown[] {
    // Sized up front: growing a large array by push costs more than the whole loop.
    const items: unknown[] = new Array<unknown>(children.length);
    let length = 0;
    for (const child of children) {
      const value = this.resolve(child);
      if (value !== null) {
        items[length] = value;
        length += 1;
      }
    }
    items.length = length;
    return items;
  }

  /** Returns the child's nested object, its placeholder until it arrives, or null once deleted. */
  private resolve(child: InstanceNode): BuiltInstance | UnloadedInstance | null {
    if (child.built !== undefined) {
      return child.built;
    }
    if (child.deletedTstamp !== undefined) {
      return null;
    }
    child.placeholder ??= { id: child.id, _instance_type: child.type, _loaded: false };
    return child.placeholder;
  }

  private listState(): TState[] {
    if (!this.rootsStale) {
      return this.roots;
    }
    const roots: TState[] = [];
    for (const id of this.anchorIds) {
      const built = this.findNode(this.model.anchor, id)?.built;
      if (built !== undefined) roots.push(built as TState);
    }
    if (!sameItems(this.roots, roots)) {
      this.roots = roots;
    }
    this.rootsStale = false;
    return this.roots;
  }

  // Node table

  private relationsOf(type: string): Relation[] {
    return this.relations.get(type) ?? [];
  }

  private emptyReferences(type: string): Reference[] {
    return this.relationsOf(type).map(() => null);
  }

  private findNode(type: string, id: InstanceId): InstanceNode | undefined {
    return this.nodes.get(type)?.get(id);
  }

  private nodeFor(type: string, id: InstanceId): InstanceNode {
    let byId = this.nodes.get(type);
    if (byId === undefined) {
      byId = new Map();
      this.nodes.set(type, byId);
    }
    let node = byId.get(id);
    if (node === undefined) {
      node = {
        type,
        id,
        server: undefined,
        overlays: [],
        flat: undefined,
        built: undefined,
        placeholder: undefined,
        references: this.emptyReferences(type),
        builtReferences: [],
        parents: new Map(),
        deletedTstamp: undefined,
        dirtyPass: 0,
        builtPass: 0,
        methods: undefined,
        creators: undefined,
      };
      byId.set(id, node);
    }
    return node;
  }

  private forget(node: InstanceNode): void {
    const byId = this.nodes.get(node.type);
    if (byId?.get(node.id) === node) {
      byId.delete(node.id);
    }
    for (const overlay of node.overlays) {
      const nodes = this.writeNodes.get(overlay.writeId);
      nodes?.delete(node);
      if (nodes?.size === 0) {
        this.writeNodes.delete(overlay.writeId);
        this.creates.delete(overlay.writeId);
      }
    }
    node.overlays = [];
  }
}

/** True when a relation value (an id, or an array of ids) contains `id`. */
function holdsReference(value: unknown, id: InstanceId): boolean {
  return Array.isArray(value) ? value.includes(id) : value === id;
}

function sameIds(nodes: readonly InstanceNode[], ids: readonly InstanceId[]): boolean {
  return nodes.length === ids.length && nodes.every((node, index) => node.id === ids[index]);
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let index = 0; index < a.length; index += 1) {
    if (a[index] !== b[index]) return false;
  }
  return true;
}

/** Compares two flat instances field by field, ignoring `_operation`. */
function sameFields(a: FlatInstance, b: FlatInstance): boolean {
  const keysA = Object.keys(a).filter((key) => key !== '_operation');
  const keysB = Object.keys(b).filter((key) => key !== '_operation');
  return (
    keysA.length === keysB.length && keysA.every((key) => key in b && sameJson(a[key], b[key]))
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameJson(item, b[i]))
    );
  }
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  const keys = Object.keys(recordA);
  return (
    keys.length === Object.keys(recordB).length &&
    keys.every((key) => key in recordB && sameJson(recordA[key], recordB[key]))
  );
}
