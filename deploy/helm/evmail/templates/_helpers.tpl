{{/* Name of every object: the release name, or "evmail" for a release named so. */}}
{{- define "evmail.fullname" -}}
{{- if contains "evmail" .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-evmail" .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "evmail.labels" -}}
app.kubernetes.io/name: evmail
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels selecting the nodes. */}}
{{- define "evmail.selector" -}}
app.kubernetes.io/name: evmail
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Kafka bootstrap servers. */}}
{{- define "evmail.brokers" -}}
{{- default (printf "%s-kafka-bootstrap:9092" .Values.kafka.strimzi.clusterName) .Values.kafka.brokers -}}
{{- end -}}

{{/* Secret with the admin token. */}}
{{- define "evmail.adminSecret" -}}
{{- default (printf "%s-admin" (include "evmail.fullname" .)) .Values.admin.existingSecret -}}
{{- end -}}
