// Describe results in Salesforce's shape, built from the schema: the per-sObject describe and the
// global sObject list.

import type { FieldSchema, Schema, SObjectSchema } from './schema.ts';

const SOAP_TYPES: Record<string, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  boolean: 'xsd:boolean',
  int: 'xsd:int',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
  time: 'xsd:time',
  address: 'urn:address',
  location: 'urn:location',
};

const sobjectUrls = (sobject: SObjectSchema, apiVersion: string) => {
  const base = `/services/data/v${apiVersion}/sobjects/${sobject.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
};

function describeField(field: FieldSchema): Record<string, unknown> {
  const text = field.length > 0 && field.type !== 'id' && field.type !== 'reference';
  const filterable = !['textarea', 'address', 'location'].includes(field.type) || field.length <= 255;
  return {
    aggregatable: filterable,
    aiPredictionField: false,
    autoNumber: field.autoNumber,
    byteLength: field.length * 3,
    calculated: field.calculated,
    calculatedFormula: null,
    cascadeDelete: false,
    caseSensitive: field.caseSensitive,
    compoundFieldName: field.compoundFieldName,
    controllerName: null,
    createable: field.createable,
    custom: field.custom,
    defaultValue: field.type === 'boolean' ? (field.defaultValue ?? false) : (field.defaultValue ?? null),
    defaultValueFormula: null,
    defaultedOnCreate: field.defaultedOnCreate,
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: field.type === 'int' ? field.precision : 0,
    displayLocationInDecimal: false,
    encrypted: field.type === 'encryptedstring',
    externalId: field.externalId,
    extraTypeInfo: field.type === 'textarea' && field.length > 255 ? 'plaintextarea' : null,
    filterable,
    filteredLookupInfo: null,
    formulaTreatNullNumberAsZero: false,
    groupable: filterable && !['double', 'currency', 'percent', 'datetime'].includes(field.type),
    highScaleNumber: false,
    htmlFormatted: false,
    idLookup: field.idLookup,
    inlineHelpText: null,
    label: field.label,
    length: text ? field.length : field.type === 'id' || field.type === 'reference' ? 18 : 0,
    mask: null,
    maskType: null,
    name: field.name,
    nameField: field.nameField,
    namePointing: field.referenceTo.length > 1,
    nillable: field.nillable,
    permissionable: field.nillable && field.createable,
    picklistValues: field.picklistValues.map((value) => ({
      active: true,
      defaultValue: value === field.defaultValue,
      label: value,
      validFor: null,
      value,
    })),
    polymorphicForeignKey: field.referenceTo.length > 1,
    precision: ['double', 'currency', 'percent'].includes(field.type) ? field.precision : 0,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo: field.referenceTo,
    relationshipName: field.relationshipName,
    relationshipOrder: null,
    restrictedDelete: false,
    restrictedPicklist: false,
    scale: ['double', 'currency', 'percent'].includes(field.type) ? field.scale : 0,
    searchPrefilterable: false,
    soapType: SOAP_TYPES[field.type] ?? 'xsd:string',
    sortable: filterable,
    type: field.type,
    unique: field.unique,
    updateable: field.updateable,
    writeRequiresMasterRead: false,
  };
}

function sobjectSummary(sobject: SObjectSchema, apiVersion: string): Record<string, unknown> {
  return {
    activateable: false,
    associateEntityType: null,
    associateParentEntity: null,
    createable: true,
    custom: sobject.custom,
    customSetting: false,
    deepCloneable: false,
    deletable: true,
    deprecatedAndHidden: false,
    feedEnabled: false,
    hasSubtypes: false,
    isInterface: false,
    isSubtype: false,
    keyPrefix: sobject.keyPrefix,
    label: sobject.label,
    labelPlural: sobject.labelPlural,
    layoutable: true,
    mergeable: !sobject.custom,
    mruEnabled: true,
    name: sobject.name,
    queryable: true,
    replicateable: true,
    retrieveable: true,
    searchable: true,
    triggerable: true,
    undeletable: true,
    updateable: true,
    urls: sobjectUrls(sobject, apiVersion),
  };
}

/**
 * `GET /sobjects/{name}/describe`.
 *
 * @example
 * describeSObject(schema.byName.get('lead')!, '65.0').fields[0]; // { name: 'Id', type: 'id', … }
 */
export function describeSObject(sobject: SObjectSchema, apiVersion: string): Record<string, unknown> {
  return {
    ...sobjectSummary(sobject, apiVersion),
    actionOverrides: [],
    childRelationships: [],
    compactLayoutable: true,
    defaultImplementation: null,
    extendedBy: null,
    extendsInterfaces: null,
    fields: sobject.fields.map(describeField),
    implementedBy: null,
    implementsInterfaces: null,
    listviewable: null,
    lookupLayoutable: null,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    recordTypeInfos: [],
    searchLayoutable: true,
    supportedScopes: [{ label: 'All records', name: 'everything' }],
    urls: {
      ...sobjectUrls(sobject, apiVersion),
      uiDetailTemplate: null,
      uiEditTemplate: null,
      uiNewRecord: null,
    },
  };
}

/** `GET /sobjects`. */
export function describeGlobal(schema: Schema, apiVersion: string): Record<string, unknown> {
  return {
    encoding: 'UTF-8',
    maxBatchSize: 200,
    sobjects: schema.sobjects.map((s) => sobjectSummary(s, apiVersion)),
  };
}

/** `GET /sobjects/{name}`: basic information and recently viewed items. */
export function sobjectBasicInfo(sobject: SObjectSchema, apiVersion: string): Record<string, unknown> {
  return { objectDescribe: sobjectSummary(sobject, apiVersion), recentItems: [] };
}
