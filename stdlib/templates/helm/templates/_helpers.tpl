{{- /*
Helpers shared by every template. Each takes a context dict:
  root: the chart's root context ($), name: the workload's name, w: its values.
The mapping from values to objects is the same as hawser's Rust code
(compiler/src/emit/kubernetes/objects.rs); the chart's equality test holds them to it.
*/ -}}

{{- /* Names are release-scoped: every object of the release is named as in the plain
manifests, prefixed with `<release>-` unless the release is named like the project (then the
names are exactly the manifests'), or with the value `namePrefix` when it is set (`""` for none).
Two releases of the chart in one namespace so never share an object, a selector or a Service
name. Takes the root context. */ -}}
{{- define "hawser.prefix" -}}
{{- if hasKey .Values "namePrefix" }}{{ .Values.namePrefix }}{{ else if ne .Release.Name .Values.project }}{{ .Release.Name }}-{{ end -}}
{{- end }}

{{- /* A workload's objects' name in the release. Takes root and name. */ -}}
{{- define "hawser.fullname" -}}
{{- printf "%s%s" (include "hawser.prefix" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- /* The Secret a workload reads: the release's own when this chart syncs it (an
ExternalSecret of the release), else the name as given (a Secret the operator creates, or an
existing one). Takes root and name. */ -}}
{{- define "hawser.secretName" -}}
{{- if hasKey .root.Values.externalSecrets .name }}{{ include "hawser.prefix" .root }}{{ end }}{{ .name -}}
{{- end }}

{{- /* The Secret an exposed port's TLS is served from: the one its Certificate writes is the
release's own (prefixed as its other objects are), an existing Secret the spec names is used as
given. Takes root and tls (the port's `tls` values). */ -}}
{{- define "hawser.tlsSecretName" -}}
{{- if get .tls "issuer" }}{{ include "hawser.prefix" .root }}{{ end }}{{ .tls.secretName -}}
{{- end }}

{{- /* An alert's text with the release's names in place of the placeholders of the values
(emit/monitoring.rs, fill). Takes root, name and text. */ -}}
{{- define "hawser.alertText" -}}
{{- $name := include "hawser.fullname" . -}}
{{- .text | replace "__JOB__" (regexReplaceAll "-+$" (trunc 52 $name) "") | replace "__NAME__" $name | replace "__INSTANCE__" .root.Release.Name | replace "__NAMESPACE__" .root.Release.Namespace -}}
{{- end }}

{{- /* The ConfigMap's data, as JSON: the plain values, and the addresses of the release's
workloads (objects.rs, config_data). Takes root and w. */ -}}
{{- define "hawser.config" -}}
{{- $data := dict -}}
{{- range $k, $v := .w.config }}{{ $_ := set $data $k $v }}{{ end -}}
{{- range $k, $a := (get .w "addresses" | default dict) }}
{{- $host := include "hawser.fullname" (dict "root" $.root "name" $a.workload) -}}
{{- if hasKey $a "namespaceSuffix" }}{{ $host = printf "%s.%s%s" $host $.root.Release.Namespace $a.namespaceSuffix }}{{ end -}}
{{- $_ := set $data $k (printf "%s%s%s" $a.before $host $a.after) -}}
{{- end -}}
{{- toJson $data -}}
{{- end }}

{{- define "hawser.selectorLabels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/name: {{ .name | quote }}
{{- end }}

{{- define "hawser.labels" -}}
{{- $labels := dict -}}
{{- range $k, $v := .w.labels }}{{ $_ := set $labels $k $v }}{{ end -}}
{{- $_ := set $labels "app.kubernetes.io/instance" .root.Release.Name -}}
{{- $_ := set $labels "app.kubernetes.io/name" .name -}}
{{- $_ := set $labels "app.kubernetes.io/component" .name -}}
{{- $_ := set $labels "app.kubernetes.io/part-of" .root.Values.project -}}
{{- $_ := set $labels "app.kubernetes.io/managed-by" "hawser" -}}
{{- $_ := set $labels "app.kubernetes.io/version" .root.Values.version -}}
{{- toYaml $labels -}}
{{- end }}

{{- /* A hook job's objects run before the release's other objects: its ServiceAccount,
ConfigMap, ExternalSecrets and NetworkPolicy at weight -10, the job at its own weight. */ -}}
{{- define "hawser.hook" -}}
{{- $annotations := dict -}}
{{- range $k, $v := (get . "annotations" | default dict) }}{{ $_ := set $annotations $k $v }}{{ end -}}
{{- if and (get .w "job") (not (get . "noHook")) }}{{ if .w.job.hook }}
{{- $_ := set $annotations "helm.sh/hook" "pre-install,pre-upgrade" -}}
{{- $_ := set $annotations "helm.sh/hook-weight" (get . "weight" | default "-10" | toString) -}}
{{- $_ := set $annotations "helm.sh/hook-delete-policy" "before-hook-creation" -}}
{{- end }}{{ end -}}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "hawser.metadata" -}}
name: {{ get . "objectName" | default (include "hawser.fullname" .) | quote }}
namespace: {{ .root.Release.Namespace | quote }}
labels:
  {{- include "hawser.labels" . | nindent 2 }}
{{- include "hawser.hook" . }}
{{- end }}

{{- define "hawser.securityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop:
  - ALL
  {{- $add := get . "add" | default list }}
  {{- if .lowPort }}{{ $add = append $add "NET_BIND_SERVICE" }}{{ end }}
  {{- with $add | uniq | sortAlpha }}
  add:
  {{- range . }}
  - {{ . }}
  {{- end }}
  {{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "hawser.podTemplate" -}}
{{- $w := .w -}}
{{- $fullname := include "hawser.fullname" . -}}
{{- $config := include "hawser.config" . | fromJson -}}
{{- $annotations := dict -}}
{{- range $k, $v := $w.podAnnotations }}{{ $_ := set $annotations $k $v }}{{ end -}}
{{- if $config }}{{ $_ := set $annotations "hawser.dev/config-checksum" ($config | toJson | sha256sum) }}{{ end -}}
{{- with get $w "files" }}
{{- $data := dict }}
{{- range $key, $f := . }}{{ $_ := set $data $key $f.content }}{{ end }}
{{- $_ := set $annotations "hawser.dev/files-checksum" ($data | toJson | sha256sum) }}
{{- end -}}
{{- $_ := set $annotations "hawser.dev/qos-class" (include "hawser.qosClass" $w.resources) -}}
{{- $lowPort := false -}}
{{- range $w.ports }}{{ if lt (int .port) 1024 }}{{ $lowPort = true }}{{ end }}{{ end -}}
metadata:
  labels:
    {{- include "hawser.labels" . | nindent 4 }}
  annotations:
    {{- toYaml $annotations | nindent 4 }}
spec:
  serviceAccountName: {{ $fullname | quote }}
  automountServiceAccountToken: {{ $w.serviceAccountToken }}
  enableServiceLinks: false
  {{- with get .root.Values "imagePullSecrets" }}
  imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
  {{- end }}
  {{- with get $w "priorityClassName" }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  {{- with $w.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with get $w "tolerations" }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with get $w "affinity" }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if not (has $w.kind (list "Deployment" "StatefulSet")) }}
  restartPolicy: Never
  {{- end }}
  terminationGracePeriodSeconds: {{ int $w.terminationGracePeriodSeconds }}
  {{- /* Spread: the defaults of a service with more than one pod, changed or joined by
  the spec's own `spread`, by topology key (objects.rs, scheduling.rs). */}}
  {{- $spread := dict }}
  {{- if and (has $w.kind (list "Deployment" "StatefulSet")) (or (get $w "autoscale") (gt (int (get $w "replicas" | default 1)) 1)) }}
  {{- range list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}{{ $_ := set $spread . (dict "maxSkew" 1 "whenUnsatisfiable" "ScheduleAnyway") }}{{ end }}
  {{- end }}
  {{- range $key, $s := (get $w "spread" | default dict) }}{{ $_ := set $spread $key $s }}{{ end }}
  {{- with $spread }}
  topologySpreadConstraints:
  {{- range $key, $s := . }}
  - maxSkew: {{ int $s.maxSkew }}
    topologyKey: {{ $key | quote }}
    whenUnsatisfiable: {{ $s.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "hawser.selectorLabels" $ | nindent 8 }}
    {{- if eq $w.kind "Deployment" }}
    matchLabelKeys:
    - pod-template-hash
    {{- end }}
  {{- end }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    fsGroup: 65532
    seccompProfile:
      type: RuntimeDefault
  {{- $jobs := get $w "waitForJobs" | default list }}
  {{- if or $w.waitFor $jobs }}
  initContainers:
  {{- range $w.waitFor }}
  - name: {{ printf "wait-%s" .name | quote }}
    image: {{ $.root.Values.waitImage | quote }}
    imagePullPolicy: IfNotPresent
    command:
    - sh
    - -c
    - {{ include "hawser.waitScript" . | quote }}
    - {{ if hasKey $.root.Values.workloads .name }}{{ include "hawser.fullname" (dict "root" $.root "name" .name) | quote }}{{ else }}{{ .host | quote }}{{ end }}
    - {{ int .port | toString | quote }}
    - {{ int $.root.Values.waitSeconds | toString | quote }}
    resources:
      requests:
        cpu: 10m
        memory: 16Mi
      limits:
        cpu: 10m
        memory: 16Mi
    securityContext:
      {{- include "hawser.securityContext" (dict "lowPort" false) | nindent 6 }}
    volumeMounts:
    - name: tmp
      mountPath: /tmp
  {{- end }}
  {{- range $jobs }}
  - name: {{ printf "wait-%s" . | quote }}
    image: {{ $.root.Values.jobWaitImage | quote }}
    imagePullPolicy: IfNotPresent
    command:
    - /bin/kubectl
    - wait
    - --for=condition=complete
    - {{ printf "--timeout=%ds" (add (int (index $.root.Values.workloads .).job.activeDeadlineSeconds) (int $.root.Values.waitSeconds)) | quote }}
    - {{ printf "job/%s" (include "hawser.jobName" (dict "root" $.root "name" .)) | quote }}
    env:
    - name: HOME
      value: /tmp
    resources:
      requests:
        cpu: 100m
        memory: 64Mi
      limits:
        cpu: 100m
        memory: 64Mi
    securityContext:
      {{- include "hawser.securityContext" (dict "lowPort" false) | nindent 6 }}
    volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: kube-api-access
      mountPath: /var/run/secrets/kubernetes.io/serviceaccount
      readOnly: true
  {{- end }}
  {{- end }}
  containers:
  - name: {{ $fullname | quote }}
    image: {{ $w.image | quote }}
    imagePullPolicy: IfNotPresent
    {{- with get $w "command" }}
    command:
    {{- range . }}
    - {{ . | quote }}
    {{- end }}
    {{- end }}
    {{- with get $w "args" }}
    args:
    {{- range . }}
    - {{ . | quote }}
    {{- end }}
    {{- end }}
    {{- with $w.ports }}
    ports:
    {{- range . }}
    - name: {{ .name | quote }}
      containerPort: {{ int .port }}
      protocol: {{ .protocol }}
    {{- end }}
    {{- end }}
    {{- if $config }}
    envFrom:
    - configMapRef:
        name: {{ $fullname | quote }}
    {{- end }}
    {{- $env := dict }}
    {{- range $k, $v := $w.env }}
    {{- if and (hasKey $v "valueFrom") $v.valueFrom.secretKeyRef }}
    {{- $ref := $v.valueFrom.secretKeyRef }}
    {{- $_ := set $env $k (dict "valueFrom" (dict "secretKeyRef" (dict "name" (include "hawser.secretName" (dict "root" $.root "name" $ref.name)) "key" $ref.key))) }}
    {{- else }}
    {{- $_ := set $env $k $v }}
    {{- end }}
    {{- end }}
    {{- with include "hawser.gomaxprocs" $w.resources }}{{ $_ := set $env "GOMAXPROCS" (dict "value" .) }}{{ end }}
    {{- with include "hawser.gomemlimit" $w.resources }}{{ $_ := set $env "GOMEMLIMIT" (dict "value" .) }}{{ end }}
    {{- with $env }}
    env:
    {{- range $k, $v := . }}
    - name: {{ $k | quote }}
      {{- toYaml $v | nindent 6 }}
    {{- end }}
    {{- end }}
    resources:
      {{- toYaml $w.resources | nindent 6 }}
    {{- with $w.probes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with get $w "preStopSleepSeconds" }}
    lifecycle:
      preStop:
        sleep:
          seconds: {{ int . }}
    {{- end }}
    securityContext:
      {{- include "hawser.securityContext" (dict "lowPort" $lowPort "add" (get $w "capabilities")) | nindent 6 }}
    volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- range $volume, $v := get $w "volumes" | default dict }}
    - name: {{ $volume | quote }}
      mountPath: {{ $v.mountPath | quote }}
    {{- end }}
    {{- range $key, $f := get $w "files" | default dict }}
    - name: files
      mountPath: {{ $f.path | quote }}
      subPath: {{ $key | quote }}
      readOnly: true
    {{- end }}
    {{- range $w.secretFiles }}
    - name: {{ .volume | quote }}
      mountPath: {{ .mountPath | quote }}
      readOnly: true
    {{- end }}
  volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  {{- range $volume, $v := get $w "volumes" | default dict }}
  {{- if not (get $v "claim") }}
  - name: {{ $volume | quote }}
    emptyDir:
      sizeLimit: {{ $v.size | quote }}
  {{- end }}
  {{- end }}
  {{- with get $w "files" }}
  - name: files
    configMap:
      name: {{ printf "%s-files" $fullname | quote }}
      defaultMode: 292
      items:
      {{- range $key, $f := . }}
      - key: {{ $key | quote }}
        path: {{ $key | quote }}
      {{- end }}
  {{- end }}
  {{- range $w.secretFiles }}
  - name: {{ .volume | quote }}
    secret:
      secretName: {{ include "hawser.secretName" (dict "root" $.root "name" .secretName) | quote }}
      defaultMode: 288
      items:
      - key: {{ .key | quote }}
        path: {{ .fileName | quote }}
  {{- end }}
  {{- if $jobs }}
  - name: kube-api-access
    projected:
      defaultMode: 288
      sources:
      - serviceAccountToken:
          path: token
          expirationSeconds: 3600
      - configMap:
          name: kube-root-ca.crt
          items:
          - key: ca.crt
            path: ca.crt
      - downwardAPI:
          items:
          - path: namespace
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
  {{- end }}
{{- end }}

{{- /* What is derived from the resources is derived here, from the values in force, so a
values file that changes a limit cannot leave it stale (objects.rs and runtime.rs compute the
same). The QoS class: Guaranteed when CPU and memory limits are set and the requests equal
them or are left out, BestEffort with nothing set, else Burstable. */ -}}
{{- define "hawser.qosClass" -}}
{{- $req := get . "requests" | default dict -}}
{{- $lim := get . "limits" | default dict -}}
{{- $cpu := and (hasKey $lim "cpu") (or (not (hasKey $req "cpu")) (eq (toString (get $req "cpu")) (toString (get $lim "cpu")))) -}}
{{- $mem := and (hasKey $lim "memory") (or (not (hasKey $req "memory")) (eq (toString (get $req "memory")) (toString (get $lim "memory")))) -}}
{{- if and $cpu $mem }}Guaranteed{{ else if and (empty $req) (empty $lim) }}BestEffort{{ else }}Burstable{{ end -}}
{{- end }}

{{- /* GOMAXPROCS: the CPU limit (`500m`, `2`, `1.5`) rounded up to whole cores, at least 1. */ -}}
{{- define "hawser.gomaxprocs" -}}
{{- with toString (dig "limits" "cpu" "" .) -}}
{{- $millis := 0 -}}
{{- if hasSuffix "m" . -}}
{{- $millis = atoi (trimSuffix "m" .) -}}
{{- else -}}
{{- $parts := splitList "." . -}}
{{- $millis = mul (atoi (first $parts)) 1000 -}}
{{- if gt (len $parts) 1 }}{{ $millis = add $millis (atoi (substr 0 3 (printf "%s000" (last $parts)))) }}{{ end -}}
{{- end -}}
{{- max 1 (div (add $millis 999) 1000) -}}
{{- end -}}
{{- end }}

{{- /* GOMEMLIMIT: 90% of the memory limit, rounded down to a whole MiB, at least 1. */ -}}
{{- define "hawser.gomemlimit" -}}
{{- with toString (dig "limits" "memory" "" .) -}}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 -}}
{{- $n := regexFind "^[0-9]+" . -}}
{{- $bytes := mul (atoi $n) (get $units (trimPrefix $n .) | default 1) -}}
{{- printf "%dMiB" (max 1 (div (div (mul $bytes 90) 100) 1048576)) -}}
{{- end -}}
{{- end }}

{{- /* The wait-for-dependency script: `sh -c SCRIPT host port seconds` (objects.rs, WAIT_SCRIPT). */ -}}
{{- define "hawser.waitScript" -}}
end=$(($(date +%s) + $2)); until nc -z -w 2 "$0" "$1"; do if [ "$(date +%s)" -ge "$end" ]; then echo "$0:$1 did not accept a connection within $2 s; is it running, and does a NetworkPolicy allow it?" >&2; exit 1; fi; echo "waiting for $0:$1"; sleep 2; done
{{- end }}

{{- /* A run-once Job's name: `<name>-<digest>`, the digest being the first 10 hex digits of
the sha256 of the version, the workload's values as JSON and the digests of the jobs its pods
wait for (objects.rs, job_digest), the name cut to 52 characters. Takes root and name. */ -}}
{{- define "hawser.jobDigest" -}}
{{- $w := index .root.Values.workloads .name -}}
{{- $text := printf "%s\n%s" .root.Values.version (toJson $w) -}}
{{- range (get $w "waitForJobs" | default list) }}{{ $text = printf "%s\n%s" $text (include "hawser.jobDigest" (dict "root" $.root "name" .)) }}{{ end -}}
{{- $text | sha256sum | trunc 10 -}}
{{- end }}

{{- define "hawser.jobName" -}}
{{- printf "%s-%s" (regexReplaceAll "-+$" (trunc 52 (include "hawser.fullname" .)) "") (include "hawser.jobDigest" .) -}}
{{- end }}

{{- define "hawser.jobSpec" -}}
backoffLimit: {{ int .w.job.backoffLimit }}
activeDeadlineSeconds: {{ int .w.job.activeDeadlineSeconds }}
{{- with get .w.job "ttlSecondsAfterFinished" }}
ttlSecondsAfterFinished: {{ int . }}
{{- end }}
template:
  {{- include "hawser.podTemplate" . | nindent 2 }}
{{- end }}
